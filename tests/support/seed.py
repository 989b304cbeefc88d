"""Seed a database and media root with scored videos: synthetic frames, scores, heatmaps, events, labels.

Used by the report tests and by `bench/pages.py`. Everything written is what the real pipeline writes:
`videos/<id>/frames.npy` + `timestamps.npy` (+ `proxy.mp4` when asked), `scores/<run>/` through
`detection.score_store.save_video_scores`, and Detector / ScoreRun / Event / LabelInterval rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from detection.events import merge_events
from detection.score_store import save_video_scores
from detection.types import VideoScores
from tests.support.teams import give_role
from tests.support.videos import make_video
from webapp.catalog.models import Area, LabelInterval, Mission, Video
from webapp.detectors.levels import level_of
from webapp.detectors.models import Detector, Event, ScoreRun

THRESHOLDS = {"cae": 0.3, "mil": 0.5}


@dataclass
class SeededVideo:
    video: Video
    runs: dict[str, ScoreRun] = field(default_factory=dict)  # by detector kind
    anomalies: tuple[tuple[float, float, str], ...] = ()


def make_user(username: str, role: str | None, *, password: str | None = None) -> User:
    """A user with the role (viewer, analyst, admin) in the default team, or with none when role is None.

    Without a password the account cannot log in by form (tests use force_login): hashing costs ~0.5 s."""
    user = User(username=username)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if role:
        give_role(user, role)
    return user


def make_mission(area_name: str = "North reef", name: str = "Patrol 1") -> Mission:
    area, _ = Area.objects.get_or_create(name=area_name)
    return Mission.objects.create(area=area, name=name, date=dt.date(2026, 6, 1), drone="D1", operator="op")


def make_detector(area: Area, kind: str, *, threshold: float | None = None, **fields) -> Detector:
    threshold = THRESHOLDS[kind] if threshold is None else threshold
    return Detector.objects.create(
        area=area, kind=kind, name=f"{kind.upper()} v1", status=Detector.Status.READY,
        is_active=True, threshold=threshold, trained=timezone.now(), **fields,
    )


def synthetic_frames(count: int, size: int, anomalies, times: np.ndarray) -> np.ndarray:
    """(count, size, size, 3) uint8: a drifting texture; a white square while an anomaly lasts."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    base = np.stack([96 + 60 * np.sin(xs / 5.0), 120 + 50 * np.cos(ys / 7.0), 140 + 40 * np.sin((xs + ys) / 9.0)], -1)
    frames = np.empty((count, size, size, 3), dtype=np.uint8)
    for start in range(0, count, 1024):
        idx = np.arange(start, min(count, start + 1024))
        shifts = (idx * 2) % size
        rows = (np.arange(size)[None, :] + shifts[:, None]) % size  # (n, size): the texture pans right
        frames[idx] = base[:, rows].transpose(1, 0, 2, 3).clip(0, 255).astype(np.uint8)
    side = max(2, size // 5)
    for start, end, _ in anomalies:
        inside = (times >= start) & (times <= end)
        frames[inside, side : 2 * side, side : 2 * side] = 255
    return frames


def synthetic_scores(kind: str, times: np.ndarray, anomalies, *, heatmap_size: int, seed: int) -> VideoScores:
    """Scores low on normal frames and high inside anomalies; heatmaps with a blob where the square is."""
    rng = np.random.default_rng(seed)
    threshold = THRESHOLDS[kind]
    inside = np.zeros(times.shape, dtype=bool)
    for start, end, _ in anomalies:
        inside |= (times >= start) & (times <= end)
    noise = rng.normal(0.0, 0.03, times.shape)
    segment_scores = segment_bounds = None
    if kind == "mil":
        edges = np.linspace(times[0], times[-1] + 1e-6, 33)
        segment_bounds = np.stack([edges[:-1], edges[1:]], axis=1)
        seg_of_frame = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, 31)
        seg_hit = np.bincount(seg_of_frame, weights=inside, minlength=32) > 0
        segment_scores = np.where(seg_hit, 0.85, 0.15) + rng.normal(0, 0.02, 32)
        frame_scores = segment_scores[seg_of_frame] + noise / 3
        heatmaps = None
    else:
        frame_scores = 0.1 + noise + 0.4 * inside
        heatmaps = rng.integers(0, 30, (len(times), heatmap_size, heatmap_size)).astype(np.uint8)
        side = max(1, heatmap_size // 5)
        heatmaps[inside, side : 2 * side, side : 2 * side] = 240
    events = merge_events(times, frame_scores, threshold, heatmaps=heatmaps)
    return VideoScores(
        times=times, frame_scores=frame_scores.astype(np.float32), threshold=threshold, events=events,
        heatmaps=heatmaps, heatmap_scale=1 / 255, segment_scores=segment_scores, segment_bounds=segment_bounds,
    )


def seed_scored_video(
    mission: Mission,
    *,
    name: str = "patrol.mp4",
    seconds: float = 60.0,
    sample_fps: float = 2.0,
    frame_size: int = 32,
    heatmap_size: int = 8,
    anomalies: tuple[tuple[float, float, str], ...] = ((20.0, 26.0, "boat"),),
    kinds: tuple[str, ...] = ("cae",),
    label: str = Video.Label.ANOMALOUS,
    proxy: bool = False,
    seed: int = 0,
) -> SeededVideo:
    """One ready video of `mission`, scored by a detector of each kind in `kinds` (created once per area)."""
    count = int(round(seconds * sample_fps))
    video = Video.objects.create(
        mission=mission, original_name=name, status=Video.Status.READY, duration=seconds, fps=10.0,
        width=frame_size, height=frame_size, frame_count=count, sample_fps=sample_fps, has_proxy=proxy, label=label,
        size_bytes=1000, sha256=f"{seed:064x}",
    )
    for start, end, anomaly_class in anomalies:
        LabelInterval.objects.create(video=video, start=start, end=end, anomaly_class=anomaly_class)
    media = Path(settings.MEDIA_ROOT)
    folder = media / video.media_dir
    folder.mkdir(parents=True, exist_ok=True)
    times = np.arange(count, dtype=np.float64) / sample_fps
    np.save(folder / "timestamps.npy", times)
    np.save(folder / "frames.npy", synthetic_frames(count, frame_size, anomalies, times))
    if proxy:
        make_video(folder / "proxy.mp4", seconds=seconds, fps=10, width=64, height=48)
    seeded = SeededVideo(video=video, anomalies=anomalies)
    for offset, kind in enumerate(kinds):
        detector = Detector.objects.filter(area=mission.area, kind=kind).first() or make_detector(mission.area, kind)
        seeded.runs[kind] = score_video(video, detector, times, anomalies, heatmap_size, seed * 10 + offset)
    return seeded


def score_video(video, detector, times, anomalies, heatmap_size, seed) -> ScoreRun:
    scores = synthetic_scores(detector.kind, times, anomalies, heatmap_size=heatmap_size, seed=seed)
    run = ScoreRun.objects.create(
        detector=detector, video=video, status=ScoreRun.Status.READY, threshold=scores.threshold,
        max_score=float(scores.frame_scores.max()), frame_count=len(times),
        has_heatmaps=scores.heatmaps is not None, finished=timezone.now(),
    )
    save_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, scores)
    Event.objects.bulk_create(
        Event(score_run=run, start=e.start, end=e.end, peak_time=e.peak_time, peak_score=e.peak_score,
              level=level_of(detector, e.peak_score, scores.threshold), peak_x=e.peak_x, peak_y=e.peak_y)
        for e in scores.events
    )
    return run


# Peak scores on each kind's real scale (BENCHMARKS.md, issue 22): CAE reconstruction errors run from about -2
# to 62 around a threshold near 12, MIL probabilities from 0 to 1 around 0.5.
REAL_SCALES = {"cae": {"threshold": 12.0, "val_normal_median": 2.0, "peaks": (61.78, 61.63, 14.5, 13.0)},
               "mil": {"threshold": 0.5, "val_normal_median": 0.1, "peaks": (0.98, 0.62, 0.55, 0.52)}}


def put_on_real_scales(mission: Mission) -> dict[str, list[Event]]:
    """Give the mission's seeded CAE and MIL events peak scores on their kinds' real scales (REAL_SCALES, best
    first by their current rank), their detectors and runs those thresholds and normal medians, and each event
    the level the scoring job writes. Returns the events by kind, best first."""
    by_kind: dict[str, list[Event]] = {}
    for kind, scale in REAL_SCALES.items():
        detector = Detector.objects.filter(area=mission.area, kind=kind).first()
        if detector is None:
            continue
        detector.threshold = scale["threshold"]
        detector.validation_metrics = {**detector.validation_metrics, "val_normal_median": scale["val_normal_median"]}
        detector.save(update_fields=["threshold", "validation_metrics"])
        ScoreRun.objects.filter(detector=detector, video__mission=mission).update(threshold=scale["threshold"])
        events = list(Event.objects.filter(score_run__detector=detector, score_run__video__mission=mission)
                      .order_by("-peak_score", "id"))
        for event, peak in zip(events, scale["peaks"], strict=False):
            event.peak_score = peak
            event.level = level_of(detector, peak, scale["threshold"])
            event.save(update_fields=["peak_score", "level"])
        by_kind[kind] = events[: len(scale["peaks"])]
    return by_kind
