from django.contrib import admin

from webapp.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "state", "progress", "stage", "attempts", "worker", "created", "finished")
    list_filter = ("kind", "state")
