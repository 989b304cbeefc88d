from django.urls import path

from webapp.uploads import views

urlpatterns = [
    path("missions/<id:mission_pk>/uploads/", views.upload_create, name="upload_create"),
    path("uploads/<uuid:upload_id>", views.upload, name="upload"),
]
