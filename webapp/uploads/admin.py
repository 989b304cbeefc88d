from django.contrib import admin

from webapp.uploads.models import UploadSession


@admin.register(UploadSession)
class UploadSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "mission", "offset", "length", "state")
