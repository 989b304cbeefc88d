from django.contrib import admin

from webapp.detectors.models import Detector, DetectorDecision, Event, ScoreRun


@admin.register(Detector)
class DetectorAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "area", "status", "is_active", "threshold", "trained")
    list_filter = ("kind", "status", "area")


@admin.register(ScoreRun)
class ScoreRunAdmin(admin.ModelAdmin):
    list_display = ("id", "detector", "video", "status", "max_score", "finished")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "score_run", "start", "end", "peak_score", "review", "reviewer")
    list_filter = ("review",)


@admin.register(DetectorDecision)
class DetectorDecisionAdmin(admin.ModelAdmin):
    list_display = ("detector", "decision", "old_threshold", "new_threshold", "user", "made")
    list_filter = ("decision",)
