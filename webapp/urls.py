from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("webapp.accounts.urls")),
    path("", include("webapp.core.urls")),
    path("", include("webapp.catalog.urls")),
    path("", include("webapp.uploads.urls")),
    path("jobs/", include("webapp.jobs.urls")),
    path("", include("webapp.detectors.urls")),
    path("", include("webapp.reports.urls")),
    path("", include("webapp.maps.urls")),
    path("api/", include("webapp.api.urls")),
]

handler404 = "webapp.core.views.not_found"
