from django.urls import path

from webapp.jobs import views

urlpatterns = [
    path("", views.job_list, name="jobs"),
    path("status.json", views.job_status, name="job_status"),
    path("<id:pk>/cancel", views.job_cancel, name="job_cancel"),
    path("<id:pk>/retry", views.job_retry, name="job_retry"),
]
