from django.contrib import admin

from webapp.catalog.models import Area, LabelInterval, Mission, Video


class LabelIntervalInline(admin.TabularInline):
    model = LabelInterval
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "created")
    list_filter = ("team",)
    search_fields = ("name",)


@admin.register(Mission)
class MissionAdmin(admin.ModelAdmin):
    list_display = ("name", "area", "date", "drone", "operator")
    list_filter = ("area",)
    search_fields = ("name", "drone", "operator")


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("original_name", "mission", "status", "label", "duration", "codec")
    list_filter = ("status", "label", "mission__area")
    search_fields = ("original_name", "sha256")
    inlines = [LabelIntervalInline]
