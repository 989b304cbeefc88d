"""Which flights a CHANGE detector compares new ones with: the area's reference set.

The set is every pinned ready video of the area (an analyst's choice, whatever the automatic rule says) and,
up to `count` in all, the most recent ready videos labelled normal. Test- and validation-split videos are
never references, so an evaluation or a threshold never compares a flight with itself. Training (workers.training) and the area page use this
one rule.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from webapp.catalog.models import Video

DEFAULT_REFERENCE_COUNT = 6
MAX_REFERENCE_COUNT = 50


def candidates(area):
    """The area's ready videos that may be references, most recent first (mission date, then upload)."""
    return (Video.objects.filter(mission__area=area, status=Video.Status.READY)
            .exclude(split__in=[Video.Split.TEST, Video.Split.VAL]).select_related("mission")
            .order_by("-mission__date", "-created", "-pk"))


def reference_set(area, count: int = DEFAULT_REFERENCE_COUNT) -> list[Video]:
    """Pinned videos first, then the most recent normal-labelled ones until there are `count` (pins may
    make it more)."""
    pool = list(candidates(area))
    pinned = [v for v in pool if v.reference_pinned]
    recent = [v for v in pool if not v.reference_pinned and v.label == Video.Label.NORMAL]
    return pinned + recent[:max(0, count - len(pinned))]


def set_pinned(video: Video, pinned: bool) -> None:
    """Pin or unpin a video as a reference flight; only a ready video outside the test split can be one,
    and an anomalous-labelled one would teach the detector that its anomaly is normal."""
    if pinned and not video.is_ready:
        raise ValidationError(f"“{video.original_name}” is not ready yet ({video.get_status_display().lower()}).")
    if pinned and video.split in (Video.Split.TEST, Video.Split.VAL):
        raise ValidationError(f"A {video.get_split_display().lower()}-split video is never a reference flight: "
                              "it would be compared with itself.")
    if pinned and video.label == Video.Label.ANOMALOUS:
        raise ValidationError(f"“{video.original_name}” is labelled anomalous: a reference flight must be normal.")
    Video.objects.filter(pk=video.pk).update(reference_pinned=pinned)
    video.reference_pinned = pinned
