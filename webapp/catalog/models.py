"""Areas, missions, videos and their labels: what analysts upload and annotate."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from detection.types import Interval, VideoRecord
from webapp.accounts.models import default_team

CONFIRMED_EVENT_CLASS = "confirmed event"


class Area(models.Model):
    """A patrolled region. Detectors are trained per area, since normal looks different in each."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Who sees it: members of this team, in their role there (webapp.accounts.roles.role_in_team).
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="areas", default=default_team)
    # The patrol camera's optics, for placing what a frame shows on the ground (detection.mapping.camera).
    camera_hfov_degrees = models.FloatField(
        default=82.1, validators=[MinValueValidator(1.0), MaxValueValidator(179.0)],
        help_text="Horizontal field of view of the patrol drone's camera, in degrees (82.1 for a DJI 24 mm-equivalent lens).")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("area", args=[self.pk])


class AreaMask(models.Model):
    """A polygon where changes are never of interest in this area (a marina, a road with traffic): events
    peaking inside it are dropped when a video is scored (`detection.masks`). A frame mask's points are
    fractions (0..1) of the frame's width and height, so one mask fits every flight of the route that is flown
    the same way; a ground mask's are [latitude, longitude] and it is projected into each frame of a flight
    with telemetry through that frame's pose, whatever its heading (flights without telemetry ignore it)."""

    class Space(models.TextChoices):
        FRAME = "frame", "frame"
        GROUND = "ground", "ground"

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="masks")
    name = models.CharField(max_length=120, blank=True)
    space = models.CharField(max_length=8, choices=Space.choices, default=Space.FRAME)
    points = models.JSONField(help_text="[[x, y], ...] fractions of the frame's width and height (a frame mask), "
                                        "or [[latitude, longitude], ...] (a ground mask).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["area", "created", "pk"]

    def __str__(self) -> str:
        return self.name or f"mask {self.pk}"


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
        RECORDING = "recording", "Recording live"
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
    proxy_method = models.CharField(max_length=200, blank=True,
                                    help_text="How ingest made the browser copy: remuxed, or re-encoded and why.")

    # The flight's telemetry sidecar (DJI .SRT, GPX, CSV) and what reading it gave: poses.npz and a summary.
    telemetry_name = models.CharField(max_length=255, blank=True, help_text="The sidecar's uploaded name, for display.")
    telemetry_file = models.CharField(max_length=500, blank=True, help_text="Path of the sidecar, relative to MEDIA_ROOT.")
    telemetry_error = models.TextField(blank=True, help_text="Why the last sidecar given could not be read.")
    has_telemetry = models.BooleanField(default=False, help_text="poses.npz holds the flight's poses.")
    pose_count = models.PositiveIntegerField(default=0)
    start_latitude = models.FloatField(null=True, blank=True)
    start_longitude = models.FloatField(null=True, blank=True)
    end_latitude = models.FloatField(null=True, blank=True)
    end_longitude = models.FloatField(null=True, blank=True)

    label = models.CharField(max_length=16, choices=Label.choices, default=Label.UNLABELLED)
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.AUTO, blank=True)
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labelled_at = models.DateTimeField(null=True, blank=True)
    # An analyst's choice: always among the flights a CHANGE detector compares new ones with
    # (webapp.catalog.references), besides the area's most recent normal ones.
    reference_pinned = models.BooleanField(default=False, help_text="Always a reference flight for CHANGE detectors.")
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
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("video", args=[self.pk])

    @property
    def title(self) -> str:
        """How a video is named to people: every day's file is often "patrol.mp4", so its mission and date
        are what tell two apart. Select or prefetch `mission` where many are shown."""
        return f"{self.mission.name} · {self.mission.date:%Y-%m-%d} · {self.original_name}"

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
    def poses_path(self) -> str:
        return f"{self.media_dir}/poses.npz"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def as_record(self, *, path: Path | None = None, video_id: str | None = None) -> VideoRecord:
        """This video as `detection`'s VideoRecord: the one labelling rule of training, evaluation and export.

        Reviews are labels. A confirmed event (of any detector's score run) is an anomalous interval of the class
        the analyst gave it (or "confirmed event" when none), unless it overlaps a labelled interval (which
        already says it, with its class), and makes the video anomalous, whatever its label says. A dismissed
        event is a normal interval (`normal_intervals`) unless it overlaps an anomalous one: an analyst saw its
        frames and called them normal, so they train and validate as normal even in a video nobody labelled.
        Unreviewed events change nothing; outside the intervals a labelled video's frames are normal. Labelled
        intervals count only in an anomalous video (a normal video is all normal); an unlabelled video without a
        confirmed event has label "" and frame truth only in its normal intervals. `path` defaults to the
        original under MEDIA_ROOT, `video_id` to the pk; `telemetry` is the stored sidecar, when one was read.
        Intervals are prefetchable (`prefetch_related("intervals")`).
        """
        event = apps.get_model("detectors", "Event")  # catalog sits below detectors: no import, no cycle
        reviewed = list(event.objects.filter(score_run__video=self, review__in=[
            event.Review.CONFIRMED, event.Review.DISMISSED]).order_by("start", "end"))
        confirmed = [e for e in reviewed if e.review == event.Review.CONFIRMED]
        intervals = [Interval(i.start, i.end, i.anomaly_class) for i in self.intervals.all()]
        labelled = list(intervals)
        intervals += [Interval(e.start, e.end, e.anomaly_class or CONFIRMED_EVENT_CLASS) for e in confirmed
                      if not _overlaps(e, labelled)]
        label = self.Label.ANOMALOUS.value if confirmed else ("" if self.label == self.Label.UNLABELLED else self.label)
        kept = tuple(sorted(intervals, key=lambda i: (i.start, i.end))) if label == self.Label.ANOMALOUS else ()
        normal = tuple(Interval(e.start, e.end) for e in reviewed
                       if e.review == event.Review.DISMISSED and not _overlaps(e, intervals))
        return VideoRecord(path=Path(settings.MEDIA_ROOT) / self.file if path is None else path, label=label,
                           split=self.split, intervals=kept, video_id=str(self.pk) if video_id is None else video_id,
                           telemetry=self.telemetry_path, normal_intervals=normal)

    @property
    def telemetry_path(self) -> Path | None:
        """The stored telemetry sidecar under MEDIA_ROOT, when one was attached and read."""
        if not (self.has_telemetry and self.telemetry_file):
            return None
        return Path(settings.MEDIA_ROOT) / self.telemetry_file


def _overlaps(span, intervals) -> bool:
    return any(span.start <= i.end and span.end >= i.start for i in intervals)


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
