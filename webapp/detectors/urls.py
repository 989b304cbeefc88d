from django.urls import path

from webapp.detectors import views

urlpatterns = [
    path("detectors/<id:pk>/", views.detector, name="detector"),
    path("detectors/<id:pk>/active", views.detector_active, name="detector_active"),
    path("detectors/<id:pk>/threshold", views.detector_threshold, name="detector_threshold"),
    path("detectors/<id:pk>/evaluate", views.detector_evaluate, name="detector_evaluate"),
    path("detectors/<id:pk>/retrain", views.detector_retrain, name="detector_retrain"),
    path("detectors/<id:pk>/evaluations/<id:job>/<str:name>", views.detector_evaluation_file,
         name="detector_evaluation_file"),
    path("detectors/<id:pk>/recon/<id:epoch>.png", views.detector_reconstruction, name="detector_reconstruction"),
]
