"""The mission's event strip (one row per ready video, where its events fall) and the review-page links in it.

Used by the report page, its standalone HTML and the export job, so it lives here rather than in a views module.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from webapp.catalog.models import Video
from webapp.reports.figures import event_strip_figure


def strip_figure(mission, events) -> dict:
    """The per-video strip of where the (filtered) events fall, one row per ready video."""
    by_video: dict[int, list] = {}
    for event in events:
        by_video.setdefault(event.score_run.video_id, []).append(
            {"start": event.start, "end": event.end, "level": event.level, "peak_score": event.peak_score,
             "detector": event.score_run.detector.kind.upper(), "url": review_url(event.score_run.video_id, event)})
    videos = mission.videos.filter(status=Video.Status.READY).order_by("original_name", "pk")
    return event_strip_figure([{"name": f"{v.original_name} #{v.pk}", "duration": v.duration,
                                "events": by_video.get(v.pk, [])} for v in videos])


def review_url(video_id: int, event) -> str:
    return f"{reverse('video_review', args=[video_id])}?{urlencode({'event': event.pk, 't': f'{event.peak_time:.2f}'})}"


def review_url_at(video_id: int, seconds: float) -> str:
    """The review of a video at one moment (a live alert's, before its event is final)."""
    return f"{reverse('video_review', args=[video_id])}?{urlencode({'t': f'{seconds:.2f}'})}"
