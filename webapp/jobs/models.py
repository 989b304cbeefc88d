"""The Job row: the one record of every unit of background work and where it stands."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from webapp.accounts.roles import ADMIN, ANALYST, role_allows, role_in_team, visible
from webapp.jobs.kinds import INTERNAL_JOB_KINDS


class Job(models.Model):
    class Kind(models.TextChoices):
        INGEST = "ingest", "Ingest"
        TRAIN = "train", "Train"
        SCORE = "score", "Score"
        EVALUATE = "evaluate", "Evaluate"
        EXPORT = "export", "Export"
        RETHRESHOLD = "rethreshold", "New threshold"
        MOSAIC = "mosaic", "Area mosaic"
        NOOP = "noop", "No-op (benchmarks and tests)"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # Who may start each kind of job. Cancelling or retrying one needs the same role: a retry runs the job
    # again, so an analyst who may not train must not be able to re-run an admin's training either.
    START_ROLES = {Kind.INGEST: ANALYST, Kind.TRAIN: ADMIN, Kind.SCORE: ANALYST, Kind.EVALUATE: ADMIN,
                   Kind.EXPORT: ANALYST, Kind.RETHRESHOLD: ADMIN, Kind.MOSAIC: ANALYST,
                   Kind.NOOP: ANALYST}

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    FINAL_STATES = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    # The target: at most one of these is set, by kind.
    video = models.ForeignKey("catalog.Video", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    mission = models.ForeignKey("catalog.Mission", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    detector = models.ForeignKey(
        "detectors.Detector", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    params = models.JSONField(default=dict, blank=True)

    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Claims ever made (never reset, unlike attempts on retry): the current run's fencing token.
    runs = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    result = models.JSONField(default=dict, blank=True, help_text="What the job produced, for display.")

    created = models.DateTimeField(default=timezone.now, db_index=True)
    enqueued = models.DateTimeField(null=True, blank=True, help_text="When a message for it was last sent.")
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job #{self.pk} ({self.state})"

    # How a job reaches its area's team, by its target; jobs with no target are the site admins'.
    TEAM_PATHS = ("video__mission__area__team", "mission__area__team", "detector__area__team")

    @classmethod
    def visible_to(cls, user):
        """The jobs of the user's teams' areas, with what deciding their team and showing their target needs."""
        jobs = cls.objects.select_related("video__mission__area", "detector__area", "mission__area")
        return visible(jobs, user, *cls.TEAM_PATHS)

    @classmethod
    def listed_to(cls, user):
        """The jobs pages list: visible_to(user) without the internal kinds (no-op jobs of tests and benchmarks)."""
        return cls.visible_to(user).exclude(kind__in=INTERNAL_JOB_KINDS)

    @classmethod
    def role_to_start(cls, kind) -> str:
        return cls.START_ROLES[cls.Kind(kind)]

    @property
    def role_to_manage(self) -> str:
        """The role that may cancel or retry this job: the one that may start its kind."""
        return self.role_to_start(self.kind)

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def is_cancellable(self) -> bool:
        return self.state in self.ACTIVE_STATES and not self.cancel_requested

    @property
    def is_retryable(self) -> bool:
        return self.state in (self.State.FAILED, self.State.CANCELLED)

    @property
    def target(self):
        """The video, mission or detector the job works on, if any."""
        return self.video or self.detector or self.mission

    @property
    def target_label(self) -> str:
        """The target as people name it: a video or a mission with its mission's date, a detector by name."""
        target = self.target
        if target is None:
            return ""
        if self.mission_id and target is self.mission:
            return f"{target} ({target.date:%Y-%m-%d})"
        return str(target)

    @property
    def area(self):
        """The area of the job's target, whose team decides who sees the job; None for a job without one."""
        target = self.target
        return target.area if target else None

    def may_be_managed_by(self, user) -> bool:
        """Whether `user` may cancel or retry this job: role_to_manage within the team of the job's area."""
        area = self.area
        return role_allows(role_in_team(user, area.team_id if area else None), self.role_to_manage)

    @property
    def output_url(self) -> str:
        """Where a succeeded job's file is fetched (an export's zip, an evaluation's metrics.json), else ""."""
        if self.state != self.State.SUCCEEDED:
            return ""
        if self.kind == self.Kind.EXPORT and self.mission_id and self.result.get("zip"):
            return reverse("mission_export_download", args=[self.mission_id, self.pk])
        if self.kind == self.Kind.EVALUATE and self.detector_id and self.result.get("metrics"):
            return reverse("detector_evaluation_file", args=[self.detector_id, self.pk, "metrics.json"])
        if self.kind == self.Kind.MOSAIC and self.video_id and self.result.get("folder"):
            return reverse("area_map", args=[self.video.mission.area_id])
        return ""

    @property
    def output_label(self) -> str:
        labels = {self.Kind.EXPORT: "Download zip", self.Kind.EVALUATE: "metrics.json", self.Kind.MOSAIC: "Area map"}
        return labels.get(self.kind, "Output")

    @property
    def duration_seconds(self) -> float | None:
        if not self.started:
            return None
        return ((self.finished or timezone.now()) - self.started).total_seconds()
