from django.urls import path

from webapp.core import media, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("media/videos/<id:video_id>/<path:name>", media.video_media, name="video_media"),
]
