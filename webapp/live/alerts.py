"""A live stream's alerts as the feed sends them, read from the rows: for a listener that (re)connects, the page
when it opens, and the API's alert list."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from webapp.detectors.levels import level_colour, level_text
from webapp.detectors.models import Event, ScoreRun
from webapp.live.models import LiveStream
from webapp.reports.strip import review_url_at


def alerts_of(stream: LiveStream, *, after: int = 0):
    """The stream's events with an id above `after`, oldest first."""
    if not stream.video_id:
        return Event.objects.none()
    return (Event.objects.filter(score_run__video=stream.video_id, pk__gt=after).select_related("score_run__detector")
            .order_by("pk"))


def alert_message(stream: LiveStream, event: Event) -> dict:
    """An event as the feed's `alert` message (the worker sends the same keys as alerts open and grow), naming
    the kind of detector that raised it (the CAE or CHANGE)."""
    detector = event.score_run.detector
    return {"type": "alert", "event": event.pk, "state": "closed" if stream.state in ("ended", "failed") else "seen",
            "detector": detector.kind.upper(), "detector_name": detector.name,
            "start": round(event.start, 2), "end": round(event.end, 2), "peak_time": round(event.peak_time, 2),
            "peak_score": round(event.peak_score, 4), "level": None if event.level is None else round(event.level, 2),
            "level_text": level_text(event.level), "level_colour": level_colour(event.level),
            "url": review_url_at(stream.video_id, event.peak_time), "review": event.review}


def stream_status(stream: LiveStream) -> dict:
    return {"id": stream.pk, "mission": stream.mission_id, "state": stream.state, "error": stream.error,
            "recorded_seconds": round(stream.recorded_seconds, 1), "gaps": stream.gaps, "alerts": stream.alerts,
            "video": stream.video_id, "listen": stream.listen,
            "telemetry": {"poses": stream.pose_count, "change_compared": stream.change_compared,
                          "change_by_telemetry": stream.change_by_telemetry}}


HISTORY_SECONDS = 120  # what the page's timeline shows


def score_history(stream: LiveStream) -> dict:
    """The last two minutes of scores for the page's timeline: the live scores while the stream runs, the
    recording's final scores once it is a scored video."""
    from detection.live.samples import read_scores
    from detection.score_store import load_video_scores

    run = ScoreRun.objects.filter(video=stream.video_id, detector=stream.detector_id).first()
    if run is not None and run.status == ScoreRun.Status.READY:
        final = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=False)
        times, scores = final.times, final.frame_scores
    else:
        times, scores = read_scores(Path(settings.MEDIA_ROOT) / stream.media_dir / "scores")
    keep = times >= (times[-1] - HISTORY_SECONDS if len(times) else 0)
    return {"times": [round(float(t), 2) for t in times[keep]], "scores": [round(float(v), 4) for v in scores[keep]],
            "threshold": run.threshold if run is not None else None}
