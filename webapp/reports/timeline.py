"""What the review page of one video needs: every ready score run's arrays, loaded once, as a figure and a
compact payload (typed arrays) for the page's script."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from django.urls import reverse

from detection.score_store import load_video_scores
from webapp.detectors import levels
from webapp.detectors.models import Event, ScoreRun
from webapp.reports.comparison import status_spans
from webapp.reports.figures import (
    REVIEW_ALPHA,
    REVIEW_OPACITY,
    REVIEW_OUTLINE,
    class_colours,
    timeline_figure,
    typed_array,
)

MAX_POINTS = 3000  # a wide screen is ~1,500-2,500 px; min/max pairs keep every peak


def ready_runs(video) -> list[ScoreRun]:
    return list(ScoreRun.objects.filter(video=video, status=ScoreRun.Status.READY)
                .select_related("detector").order_by("detector__kind", "detector_id"))


def load_run(run: ScoreRun):
    """A run's stored scores without heatmaps, or None when its files are missing or unreadable."""
    try:
        return load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=False)
    except (OSError, ValueError, KeyError):
        return None


def video_timeline(video, *, max_points: int = MAX_POINTS) -> dict:
    """The timeline figure of a video's ready score runs, with what it was built from."""
    tracks, track_of_run, missing = [], {}, []
    for run in ready_runs(video):
        scores = load_run(run)
        if scores is None:
            missing.append(str(run.detector))
            continue
        track_of_run[run.pk] = len(tracks)
        tracks.append({"run": run, "scores": scores})
    events = list(Event.objects.filter(score_run__in=[t["run"] for t in tracks])
                  .select_related("score_run__detector", "reviewer")
                  .order_by("start", "id"))
    intervals = [(i.start, i.end, i.anomaly_class) for i in video.intervals.all()]
    figure = timeline_figure(
        [{"name": t["run"].detector.name, "kind": t["run"].detector.kind, "times": t["scores"].times,
          "scores": t["scores"].frame_scores, "threshold": t["scores"].threshold,
          "segment_bounds": t["scores"].segment_bounds, "segment_scores": t["scores"].segment_scores,
          "not_compared": frames_not_compared(t["scores"])}
         for t in tracks],
        intervals=intervals,
        events=[{"row": track_of_run[e.score_run_id], "start": e.start, "end": e.end, "review": e.review, "id": e.pk,
                 "peak_time": e.peak_time, "peak_score": e.peak_score, "colour": event_colour(e),
                 "level_text": levels.level_text(e.level)} for e in events],
        duration=video.duration or _last_time(tracks),
        max_points=max_points,
    )
    return {"figure": figure, "tracks": tracks, "track_of_run": track_of_run, "events": events,
            "intervals": intervals, "missing": missing}


def event_colour(event: Event) -> str:
    """The event's colour on the fixed level scale (webapp.detectors.levels), the same on every page."""
    return levels.level_colour(event.level)


def frames_not_compared(scores) -> list[dict]:
    """A CHANGE run's spans of frames with no reference or a failed alignment (empty for other kinds)."""
    status = scores.extras.get("frame_status")
    return status_spans(scores.times, status) if status is not None else []


def review_payload(video) -> dict:
    """Figure, tracks (full-resolution times and scores, sent once), events and intervals for the page."""
    timeline = video_timeline(video)
    row_of = timeline["track_of_run"]
    return {
        "video": {"id": video.pk, "duration": video.duration},
        "figure": timeline["figure"],
        "tracks": [_track_json(t["run"], t["scores"], row) for row, t in enumerate(timeline["tracks"])],
        "events": [_event_json(e, row_of[e.score_run_id]) for e in timeline["events"]],
        "has_status": any(frames_not_compared(t["scores"]) for t in timeline["tracks"]),
        "intervals": [{"start": s, "end": e, "class": c} for s, e, c in timeline["intervals"]],
        "classes": [{"name": name, "colour": colour}
                    for name, colour in class_colours(c for _, _, c in timeline["intervals"]).items()],
        "review_style": {"alpha": REVIEW_ALPHA, "outline": REVIEW_OUTLINE, "opacity": REVIEW_OPACITY},
        "urls": {"review": reverse("event_review", args=[0]), "heatmap": reverse("heatmap_png", args=[0, 0]),
                 "heatmap_view": reverse("heatmap_view", args=[0, 0]),
                 "frame": reverse("heatmap_view_image", args=[0, 0, "input"])},
        "missing": timeline["missing"],
    }


def _last_time(tracks) -> float | None:
    ends = [float(t["scores"].times[-1]) for t in tracks if len(t["scores"].times)]
    return max(ends) if ends else None


def _track_json(run: ScoreRun, scores, row: int) -> dict:
    return {"run": run.pk, "row": row, "detector": run.detector.name, "kind": run.detector.kind,
            "threshold": scores.threshold, "has_heatmaps": run.has_heatmaps,
            "times": typed_array(np.asarray(scores.times)), "scores": typed_array(np.asarray(scores.frame_scores))}


def _event_json(event: Event, row: int) -> dict:
    return {"id": event.pk, "run": event.score_run_id, "row": row, "start": event.start, "end": event.end,
            "peak_time": event.peak_time, "peak_score": event.peak_score, "review": event.review,
            "level": event.level, "level_text": levels.level_text(event.level), "colour": event_colour(event),
            "note": event.note,
            "reviewer": event.reviewer.get_username() if event.reviewer else None,
            "reviewed_at": event.reviewed_at.isoformat() if event.reviewed_at else None,
            "compare": reverse("event_compare", args=[event.pk]) if event.score_run.detector.compares_flights else ""}
