"""Areas, missions, videos and their labels: what analysts upload and annotate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from webapp.accounts.models import default_team


class Area(models.Model):
    """A patrolled region. Detectors are trained per area, since normal looks different in each."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Who sees it: members of this team, in their role there (webapp.accounts.roles.role_in_team).
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="areas", default=default_team)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("area", args=[self.pk])


class Mission(models.Model):
    """One patrol of an area."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="missions")
    name = models.CharField(max_length=200)
    date = models.DateField()
    drone = models.CharField(max_length=120, blank=True)
    operator = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="unique_mission_name_per_area")]

    def __str__(self) -> str:
        return f"{self.area.name} / {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("mission", args=[self.pk])


class Video(models.Model):
    """An untouched original and everything ingest derives from it (under media/videos/<id>/)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        INGESTING = "ingesting", "Ingesting"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Label(models.TextChoices):
        UNLABELLED = "unlabelled", "Unlabelled"
        NORMAL = "normal", "Normal"
        ANOMALOUS = "anomalous", "Anomalous"

    class Split(models.TextChoices):
        AUTO = "", "Automatic"
        TRAIN = "train", "Train"
        VAL = "val", "Validation"
        TEST = "test", "Test"

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="videos")
    original_name = models.CharField(max_length=255, help_text="The uploaded file's name, for display only.")
    file = models.CharField(max_length=500, blank=True, help_text="Path of the original, relative to MEDIA_ROOT.")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)

    # Probed metadata.
    container = models.CharField(max_length=40, blank=True)
    codec = models.CharField(max_length=40, blank=True)
    duration = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.IntegerField(default=0)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)
    frame_count = models.PositiveIntegerField(default=0, help_text="Sampled frames in frames.npy.")
    sample_fps = models.FloatField(default=2.0)
    has_proxy = models.BooleanField(default=False)

    label = models.CharField(max_length=16, choices=Label.choices, default=Label.UNLABELLED)
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.AUTO, blank=True)
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labelled_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mission", "original_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "sha256"],
                condition=~models.Q(sha256=""),
                name="unique_video_checksum_per_mission",
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("video", args=[self.pk])

    @property
    def area(self) -> Area:
        return self.mission.area

    @property
    def media_dir(self) -> str:
        """This video's folder, relative to MEDIA_ROOT."""
        return f"videos/{self.pk}"

    @property
    def frames_path(self) -> str:
        return f"{self.media_dir}/frames.npy"

    @property
    def timestamps_path(self) -> str:
        return f"{self.media_dir}/timestamps.npy"

    @property
    def proxy_path(self) -> str:
        return f"{self.media_dir}/proxy.mp4"

    @property
    def poster_path(self) -> str:
        return f"{self.media_dir}/poster.jpg"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class LabelInterval(models.Model):
    """An anomalous time span of a video, with an optional class (boat, person, ...)."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="intervals")
    start = models.FloatField(help_text="Seconds from the start of the video.")
    end = models.FloatField()
    anomaly_class = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["video", "start"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="interval_end_after_start")]

    def __str__(self) -> str:
        return f"{self.start:.1f}-{self.end:.1f}s {self.anomaly_class}".strip()

    @property
    def area(self) -> Area:
        return self.video.mission.area
