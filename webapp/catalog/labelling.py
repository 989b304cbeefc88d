"""Labelling rules: a whole-video label and anomalous intervals, validated and stamped with who and when.

Pages and the REST API both go through these functions, so a reversed or out-of-range interval is refused
the same way everywhere, with a message that names the problem. The label and the intervals never contradict
each other: a video with an anomalous interval is anomalous, so marking it normal (or unlabelled) deletes its
intervals, and only when the caller says so (`discard_intervals`); otherwise it is refused with
`IntervalsWouldBeLost`, which the video page turns into a confirm step.
"""

from __future__ import annotations

import math
from collections import Counter

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from webapp.catalog.models import LabelInterval, Video

# Players report the end a little past the last frame; allow that much slack past the probed duration.
DURATION_SLACK_SECONDS = 0.5
MAX_CLASS_LENGTH = LabelInterval._meta.get_field("anomaly_class").max_length
# The classes offered first (keys 1-5 on the video page); classes already used in the area follow.
DEFAULT_CLASSES = ("boat", "person", "vehicle", "debris", "oil")
MAX_CLASS_KEYS = 9


class IntervalsWouldBeLost(ValidationError):
    """A label other than anomalous on a video with anomalous intervals, without consent to delete them."""

    def __init__(self, video: Video, label: str, count: int):
        self.count = count
        noun = "interval" if count == 1 else "intervals"
        super().__init__(f"this video has {count} anomalous {noun}; marking it {label} deletes "
                         f"{'it' if count == 1 else 'them'}: confirm to go on", code="intervals_would_be_lost")


@transaction.atomic
def set_video_label(video: Video, label: str, user, *, discard_intervals: bool = False) -> Video:
    """Label the whole video normal, anomalous or unlabelled, remembering who did it and when.

    A label other than anomalous deletes the video's intervals when `discard_intervals` is true and is
    refused (IntervalsWouldBeLost) when it is not: the label and the intervals never disagree."""
    if label not in Video.Label.values:
        choices = ", ".join(Video.Label.values)
        raise ValidationError(f"unknown label {label!r}: choose one of {choices}")
    if label != Video.Label.ANOMALOUS:
        intervals = LabelInterval.objects.select_for_update().filter(video=video)
        count = intervals.count()
        if count and not discard_intervals:
            raise IntervalsWouldBeLost(video, label, count)
        intervals.delete()
    video.label = label
    video.labelled_by = user
    video.labelled_at = timezone.now()
    video.save(update_fields=["label", "labelled_by", "labelled_at"])
    return video


def _seconds(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(number):
        raise ValidationError(f"{name} must be a finite number of seconds")
    return number


def clean_interval(video: Video, start, end, anomaly_class: str = "") -> tuple[float, float, str]:
    """Check an interval against the video; return (start, end, class) or raise ValidationError."""
    start, end = _seconds(start, "start"), _seconds(end, "end")
    if start < 0:
        raise ValidationError(f"start {start:.2f}s is before the beginning of the video")
    if end <= start:
        raise ValidationError(f"end {end:.2f}s must come after start {start:.2f}s")
    if video.duration is not None and end > video.duration + DURATION_SLACK_SECONDS:
        raise ValidationError(f"end {end:.2f}s is past the end of the video ({video.duration:.2f}s)")
    anomaly_class = clean_class(anomaly_class)
    if video.duration is not None:
        end = min(end, video.duration)
    return start, end, anomaly_class


def clean_class(anomaly_class) -> str:
    """An interval's or a confirmed event's class, stripped; ValidationError if it is not text or too long."""
    if anomaly_class is not None and not isinstance(anomaly_class, str):
        raise ValidationError(f"class must be text, not {anomaly_class!r}")
    anomaly_class = (anomaly_class or "").strip()
    if len(anomaly_class) > MAX_CLASS_LENGTH:
        raise ValidationError(f"class must be at most {MAX_CLASS_LENGTH} characters")
    return anomaly_class


@transaction.atomic
def add_interval(video: Video, start, end, anomaly_class: str, user) -> LabelInterval:
    """Add an anomalous interval; a video with an anomalous interval is an anomalous video."""
    start, end, anomaly_class = clean_interval(video, start, end, anomaly_class)
    interval = LabelInterval.objects.create(
        video=video, start=start, end=end, anomaly_class=anomaly_class, created_by=user
    )
    if video.label != Video.Label.ANOMALOUS:
        set_video_label(video, Video.Label.ANOMALOUS, user)
    return interval


@transaction.atomic
def update_interval(interval: LabelInterval, start, end, anomaly_class: str) -> LabelInterval:
    """Move an interval or change its class, checked by the same rules as a new one."""
    interval.start, interval.end, interval.anomaly_class = clean_interval(interval.video, start, end, anomaly_class)
    interval.save(update_fields=["start", "end", "anomaly_class"])
    return interval


def delete_interval(interval: LabelInterval) -> None:
    interval.delete()


def class_choices(video: Video) -> list[str]:
    """The classes the video page offers, in key order: those in use in its area (`classes_in_use`)."""
    return classes_in_use([video.mission.area_id])


def classes_in_use(areas) -> list[str]:
    """The classes to offer, in key order: the defaults, then the other classes that the areas' (ids or a
    queryset) labelled intervals and confirmed events use, most used first."""
    event = apps.get_model("detectors", "Event")  # catalog sits below detectors: no import, no cycle
    uses = Counter()
    for rows in (LabelInterval.objects.filter(video__mission__area__in=areas),
                 event.objects.filter(score_run__video__mission__area__in=areas)):
        uses.update(dict(rows.exclude(anomaly_class="").order_by().values("anomaly_class")
                         .annotate(uses=Count("id")).values_list("anomaly_class", "uses")))
    return [*DEFAULT_CLASSES, *sorted((c for c in uses if c not in DEFAULT_CLASSES), key=lambda c: (-uses[c], c))]


def label_status(video: Video) -> str:
    """One sentence about the label that always agrees with it (an imported label has no labeller)."""
    if video.label == Video.Label.UNLABELLED:
        return "Not labelled yet."
    text = f"Labelled {video.get_label_display().lower()}"
    if video.labelled_by:
        text += f" by {video.labelled_by.get_username()}"
    if video.labelled_at:
        text += f", {timezone.localtime(video.labelled_at):%Y-%m-%d %H:%M}"
    return text + ("." if video.labelled_by or video.labelled_at else " (imported; no labeller recorded).")


def interval_as_dict(interval: LabelInterval) -> dict:
    return {
        "id": interval.pk,
        "start": interval.start,
        "end": interval.end,
        "anomaly_class": interval.anomaly_class,
        "created_by": interval.created_by.get_username() if interval.created_by else None,
        "created": interval.created.isoformat(),
    }


def label_as_dict(video: Video) -> dict:
    return {
        "label": video.label,
        "label_display": video.get_label_display(),
        "labelled_by": video.labelled_by.get_username() if video.labelled_by else None,
        "labelled_at": video.labelled_at.isoformat() if video.labelled_at else None,
        "status": label_status(video),
    }
