from django.urls import path

from webapp.catalog import manifest_upload, telemetry_views, views

urlpatterns = [
    path("areas/", views.areas, name="areas"),
    path("areas/<id:pk>/", views.area, name="area"),
    path("areas/<id:pk>/train/", views.train_detector, name="area_train"),
    path("areas/<id:pk>/masks", views.area_masks, name="area_masks"),
    path("areas/<id:pk>/masks/<id:mask>/delete", views.area_mask_delete, name="area_mask_delete"),
    path("areas/<id:pk>/import/", manifest_upload.manifest_import, name="area_import"),
    path("missions/", views.missions, name="missions"),
    path("missions/new/", views.mission_create, name="mission_create"),
    path("missions/<id:pk>/", views.mission, name="mission"),
    path("missions/<id:pk>/videos.json", views.mission_videos_json, name="mission_videos_json"),
    path("missions/<id:pk>/telemetry", telemetry_views.mission_telemetry, name="mission_telemetry"),
    path("missions/<id:pk>/score/", views.mission_score, name="mission_score"),
    path("missions/<id:pk>/delete/", views.mission_delete, name="mission_delete"),
    path("videos/<id:pk>/", views.video, name="video"),
    path("videos/<id:pk>/delete/", views.video_delete, name="video_delete"),
    path("videos/<id:pk>/telemetry", telemetry_views.video_telemetry, name="video_telemetry"),
    path("videos/<id:pk>/poses.json", telemetry_views.video_poses, name="video_poses"),
    path("videos/<id:pk>/reference", views.video_reference, name="video_reference"),
    path("videos/<id:pk>/label", views.video_label, name="video_label"),
    path("videos/<id:pk>/intervals", views.video_intervals, name="video_intervals"),
    path("intervals/<id:pk>/edit", views.interval_update, name="interval_update"),
    path("intervals/<id:pk>/delete", views.interval_delete, name="interval_delete"),
]
