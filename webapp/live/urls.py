from django.urls import path

from webapp.live import views

urlpatterns = [
    path("missions/<id:pk>/live/", views.live_page, name="live_page"),
    path("missions/<id:pk>/live/start", views.live_start, name="live_start"),
    path("live/<id:pk>/stop", views.live_stop, name="live_stop"),
    path("live/<id:pk>/frame.jpg", views.live_frame, name="live_frame"),
    path("live/<id:pk>/events", views.live_events, name="live_events"),
]
