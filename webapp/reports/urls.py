from django.urls import path

from webapp.reports import plotlyjs, review, views

urlpatterns = [
    path("missions/<int:pk>/report/", views.mission_report, name="mission_report"),
    path("missions/<int:pk>/report/review/", views.mission_report_review, name="mission_report_review"),
    path("missions/<int:pk>/report/events.csv", views.mission_events_csv, name="mission_events_csv"),
    path("missions/<int:pk>/report/events.json", views.mission_events_json, name="mission_events_json"),
    path("missions/<int:pk>/report/standalone.html", views.mission_report_html, name="mission_report_html"),
    path("missions/<int:pk>/report/export", views.mission_export, name="mission_export"),
    path("missions/<int:pk>/report/exports/<int:job>.zip", views.mission_export_download,
         name="mission_export_download"),
    path("videos/<int:pk>/review/", review.video_review, name="video_review"),
    path("events/<int:pk>/review/", review.event_review, name="event_review"),
    path("events/<int:pk>/heatmap/", review.event_heatmap, name="event_heatmap"),
    path("events/<int:pk>/thumbnail.png", review.event_thumbnail, name="event_thumbnail"),
    path("runs/<int:pk>/heatmaps/<int:index>.png", review.heatmap_png, name="heatmap_png"),
    path("runs/<int:pk>/frames/<int:index>/", review.heatmap_view, name="heatmap_view"),
    path("runs/<int:pk>/frames/<int:index>/<str:panel>.png", review.heatmap_view_image, name="heatmap_view_image"),
    path("assets/plotly-<str:version>.min.js", plotlyjs.plotly_js, name="plotly_js"),
]
