from django.urls import path

from webapp.reports import compare_views, inbox_views, plotlyjs, review, views

urlpatterns = [
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("missions/<id:pk>/report/", views.mission_report, name="mission_report"),
    path("missions/<id:pk>/report/review/", views.mission_report_review, name="mission_report_review"),
    path("missions/<id:pk>/report/events.csv", views.mission_events_csv, name="mission_events_csv"),
    path("missions/<id:pk>/report/events.json", views.mission_events_json, name="mission_events_json"),
    path("missions/<id:pk>/report/standalone.html", views.mission_report_html, name="mission_report_html"),
    path("missions/<id:pk>/report/export", views.mission_export, name="mission_export"),
    path("missions/<id:pk>/report/exports/<id:job>.zip", views.mission_export_download,
         name="mission_export_download"),
    path("videos/<id:pk>/review/", review.video_review, name="video_review"),
    path("events/<id:pk>/review/", review.event_review, name="event_review"),
    path("events/<id:pk>/heatmap/", review.event_heatmap, name="event_heatmap"),
    path("events/<id:pk>/thumbnail.png", review.event_thumbnail, name="event_thumbnail"),
    path("events/<id:pk>/compare/", compare_views.event_compare, name="event_compare"),
    path("events/<id:pk>/compare/<str:panel>.png", compare_views.event_compare_image, name="event_compare_image"),
    path("events/<id:pk>/reference.png", compare_views.event_reference_thumbnail, name="event_reference_thumbnail"),
    path("runs/<id:pk>/heatmaps/<id:index>.png", review.heatmap_png, name="heatmap_png"),
    path("runs/<id:pk>/frames/<id:index>/", review.heatmap_view, name="heatmap_view"),
    path("runs/<id:pk>/frames/<id:index>/<str:panel>.png", review.heatmap_view_image, name="heatmap_view_image"),
    path("assets/plotly-<str:version>.min.js", plotlyjs.plotly_js, name="plotly_js"),
]
