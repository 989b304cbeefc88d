from django.urls import path

from webapp.detectors import views

urlpatterns = [
    path("detectors/<int:pk>/", views.detector, name="detector"),
    path("detectors/<int:pk>/active", views.detector_active, name="detector_active"),
    path("detectors/<int:pk>/evaluate", views.detector_evaluate, name="detector_evaluate"),
    path("detectors/<int:pk>/evaluations/<int:job>/<str:name>", views.detector_evaluation_file,
         name="detector_evaluation_file"),
    path("detectors/<int:pk>/recon/<int:epoch>.png", views.detector_reconstruction, name="detector_reconstruction"),
]
