from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from webapp.api import live, views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=views.Api.permission_classes), name="api_schema"),
    path("docs/", views.docs_page, name="api_docs"),
    path("token/", views.token_page, name="api_token"),
    path("areas/", views.AreaList.as_view(), name="api_areas"),
    path("areas/<id:pk>/detectors/", views.AreaDetectors.as_view(), name="api_area_detectors"),
    path("missions/", views.MissionList.as_view(), name="api_missions"),
    path("missions/<id:pk>/", views.MissionDetail.as_view(), name="api_mission"),
    path("missions/<id:pk>/score/", views.MissionScore.as_view(), name="api_mission_score"),
    path("missions/<id:pk>/uploads/", views.UploadCreate.as_view(), name="api_upload_create"),
    path("uploads/<uuid:upload_id>", views.UploadDetail.as_view(), name="api_upload"),
    path("videos/", views.VideoList.as_view(), name="api_videos"),
    path("videos/<id:pk>/", views.VideoDetail.as_view(), name="api_video"),
    path("videos/<id:pk>/intervals/", views.IntervalList.as_view(), name="api_video_intervals"),
    path("videos/<id:pk>/telemetry/", views.VideoTelemetry.as_view(), name="api_video_telemetry"),
    path("videos/<id:pk>/scores/", views.VideoScores.as_view(), name="api_video_scores"),
    path("intervals/<id:pk>/", views.IntervalDetail.as_view(), name="api_interval"),
    path("events/", views.EventList.as_view(), name="api_events"),
    path("jobs/<id:pk>/", views.JobDetail.as_view(), name="api_job"),
    path("live/<id:pk>/", live.LiveAlerts.as_view(), name="api_live"),
    path("live/<id:pk>/events", live.LiveEvents.as_view(), name="api_live_events"),
    path("live/<id:pk>/telemetry/", live.LiveTelemetry.as_view(), name="api_live_telemetry"),
]
