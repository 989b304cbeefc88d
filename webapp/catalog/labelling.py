"""Labelling rules: a whole-video label and anomalous intervals, validated and stamped with who and when.

Pages and the REST API both go through these functions, so a reversed or out-of-range interval is refused
the same way everywhere, with a message that names the problem.
"""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webapp.catalog.models import LabelInterval, Video

# Players report the end a little past the last frame; allow that much slack past the probed duration.
DURATION_SLACK_SECONDS = 0.5
MAX_CLASS_LENGTH = LabelInterval._meta.get_field("anomaly_class").max_length
# The classes offered before an area's own labels name any (an interval's and a confirmed event's class is free
# text; pages suggest these and the classes already in use: webapp.reports.inbox.classes_in_use).
COMMON_CLASSES = ("boat", "person", "vehicle", "debris", "oil")


def set_video_label(video: Video, label: str, user) -> Video:
    """Label the whole video normal, anomalous or unlabelled, remembering who did it and when."""
    if label not in Video.Label.values:
        choices = ", ".join(Video.Label.values)
        raise ValidationError(f"unknown label {label!r}: choose one of {choices}")
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
    """An interval's or a confirmed event's class, stripped; ValidationError if it is too long."""
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


def delete_interval(interval: LabelInterval) -> None:
    interval.delete()


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
    }
