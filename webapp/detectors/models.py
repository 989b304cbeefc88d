"""Trained detectors, their runs over videos, and the events they flag."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Detector(models.Model):
    """A trained model version for one area; its file lives at media/detectors/<id>/model.pt."""

    class Kind(models.TextChoices):
        CAE = "cae", "Convolutional autoencoder"
        MIL = "mil", "Multiple-instance ranking"
        CHANGE = "change", "Change against earlier flights"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to train"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    # The config key of a CHANGE detector's reference count: the web app's choice, not the trainer's.
    REFERENCES_KEY = "references"

    area = models.ForeignKey("catalog.Area", on_delete=models.CASCADE, related_name="detectors")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=120)
    config = models.JSONField(default=dict, blank=True)
    training_videos = models.ManyToManyField("catalog.Video", blank=True, related_name="trained_detectors")
    # CHANGE only: the earlier flights each new one is compared with (set when training succeeds).
    reference_videos = models.ManyToManyField("catalog.Video", blank=True, related_name="reference_for")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_active = models.BooleanField(default=False, help_text="Active detectors score new videos of the area.")
    artifact = models.CharField(max_length=500, blank=True, help_text="Path of model.pt relative to MEDIA_ROOT.")
    threshold = models.FloatField(null=True, blank=True)
    validation_metrics = models.JSONField(default=dict, blank=True)
    training_curve = models.JSONField(default=list, blank=True, help_text="[{epoch, train_loss, val_loss}, ...]")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    trained = models.DateTimeField(null=True, blank=True)
    # Lineage: the version this one was retrained from ("retrain with reviews"), and the reviewed events its
    # training read as labels ({"confirmed": [event ids], "dismissed": [event ids]}, set when training succeeds).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    reviews_used = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["area", "-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def get_absolute_url(self) -> str:
        return reverse("detector", args=[self.pk])

    @property
    def compares_flights(self) -> bool:
        """A CHANGE detector compares each flight with reference flights of the area rather than judging it
        alone: it trains on those references and its events name the reference they were compared with."""
        return self.kind == self.Kind.CHANGE

    @property
    def reference_count(self) -> int:
        """How many recent normal flights a CHANGE detector compares with, besides the pinned ones."""
        from webapp.catalog.references import DEFAULT_REFERENCE_COUNT

        return int(self.config.get(self.REFERENCES_KEY) or DEFAULT_REFERENCE_COUNT)

    def trainer_overrides(self) -> dict:
        """The config as the detection trainer's overrides: without the web app's own keys."""
        return {k: v for k, v in self.config.items() if k != self.REFERENCES_KEY}

    @property
    def media_dir(self) -> str:
        return f"detectors/{self.pk}"

    @property
    def reviews_used_counts(self) -> dict[str, int]:
        """How many confirmed and dismissed events its training read as labels."""
        return {key: len(self.reviews_used.get(key, [])) for key in ("confirmed", "dismissed")}

    def degenerate_reasons(self) -> list[str]:
        """Why its validation says nothing about how it will do (empty: nothing wrong seen): a video AUC of 0,
        a validation loss that never moved, or a validation split with one class only. Such a detector is not
        made active unless an admin confirms it (`DetectorDecision.ACTIVATED_DESPITE_WARNING`)."""
        from webapp.detectors.validation import degenerate_reasons

        return degenerate_reasons(self.validation_metrics, self.training_curve)


class ScoreRun(models.Model):
    """One detector over one video. Arrays live under media/scores/<id>/."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    detector = models.ForeignKey(Detector, on_delete=models.CASCADE, related_name="score_runs")
    video = models.ForeignKey("catalog.Video", on_delete=models.CASCADE, related_name="score_runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    threshold = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(default=0)
    has_heatmaps = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["detector", "video"], name="one_score_run_per_detector_video")]

    def __str__(self) -> str:
        return f"{self.detector} on {self.video}"

    @property
    def media_dir(self) -> str:
        return f"scores/{self.pk}"


class Event(models.Model):
    """A flagged time span. Reviews become labels for the next training run."""

    class Review(models.TextChoices):
        UNREVIEWED = "unreviewed", "Unreviewed"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"

    class Change(models.TextChoices):
        NONE = "", "–"
        NEW = "new", "New"
        VANISHED = "vanished", "Vanished"

    score_run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="events")
    start = models.FloatField()
    end = models.FloatField()
    peak_time = models.FloatField()
    peak_score = models.FloatField(db_index=True)
    # The peak on the one scale of every detector kind (webapp.detectors.levels): 1 = the detector's threshold.
    level = models.FloatField(null=True, blank=True, db_index=True)
    # Where in the frame: the heatmap peak, as fractions of width and height (0..1).
    peak_x = models.FloatField(null=True, blank=True)
    peak_y = models.FloatField(null=True, blank=True)
    # Where on the ground: the heatmap peak seen from the drone's pose at peak_time (webapp.maps.locate);
    # null without telemetry or a peak.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # CHANGE events: what changed, and the reference flight and instant today's frame was compared with.
    change = models.CharField(max_length=8, choices=Change.choices, default=Change.NONE, blank=True)
    reference_video = models.ForeignKey("catalog.Video", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="reference_events")
    reference_time = models.FloatField(null=True, blank=True, help_text="Seconds into the reference flight.")
    review = models.CharField(max_length=16, choices=Review.choices, default=Review.UNREVIEWED, db_index=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    # What a confirmed event shows (boat, person, ...), named as labelled intervals name their class; empty for
    # events not confirmed (webapp.reports.reviews keeps it so) and for confirmed ones given no class.
    anomaly_class = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-peak_score", "id"]

    def __str__(self) -> str:
        return f"{self.start:.1f}-{self.end:.1f}s peak {self.peak_score:.3f}"

    @property
    def video(self):
        return self.score_run.video


class DetectorDecision(models.Model):
    """What an admin decided about a detector, by whom and when: the page's history of its threshold and of
    activations that overrode the degenerate-validation warning."""

    class Decision(models.TextChoices):
        THRESHOLD = "threshold", "Threshold changed"
        ACTIVATED_DESPITE_WARNING = "activated", "Made active despite the validation warning"

    detector = models.ForeignKey(Detector, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    old_threshold = models.FloatField(null=True, blank=True)
    new_threshold = models.FloatField(null=True, blank=True)
    detail = models.TextField(blank=True, help_text="What it did or what it overrode.")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    made = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-made", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.detector_id} at {self.made:%Y-%m-%d %H:%M}"
