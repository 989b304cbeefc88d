"""Scoring a live stream frame by frame, alerts as they happen, and the final scores without scoring twice.

Only the CAE scores online today: its raw score and error map of a frame depend on that frame alone
(sequence_length 1), so `LiveScorer.score` gives the same raw values as scoring the whole recording later.
Its final scores need the whole flight (the 3-frame median looks one frame ahead; `video_relative` needs the
flight's median), so the live score is the causal version: z-scored like the final one, the median taken over
the newest `temporal_window` frames (and, for `video_relative`, the median of the flight so far). Alerts open
when that score reaches the threshold and close after `event_max_gap` seconds below it.
When the stream ends, `final_scores` gives exactly what `score_frames` would give on the recording's sampled
frames: it reuses every live raw score at the same time and scores only the frames the live reader dropped.
CHANGE scores live through detection.live.change (its own thread, the newest frame, alerts by the same
`AlertTracker`); MIL (segment scores) is not online: `LiveScorer` refuses other kinds with a clear error.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from detection.errors import DetectionError
from detection.types import VideoScores

MATCH_TOLERANCE = 1e-3  # seconds: a live sample and an ingest sample this close are the same frame


class LiveScoringError(DetectionError):
    """A detector that cannot score a live stream (kind or configuration)."""


@dataclass
class LiveAlert:
    """An alert while it happens: times in video seconds; peak_x/peak_y fractions of the frame (None: unknown)."""

    start: float
    end: float
    peak_time: float
    peak_score: float
    peak_x: float | None = None
    peak_y: float | None = None
    open: bool = True


@dataclass(frozen=True)
class LiveScore:
    time: float
    raw: float
    score: float
    changed: LiveAlert | None  # the alert opened, raised or closed by this frame, if any
    opened: bool = False


def check_live(detector) -> None:
    """Raise LiveScoringError unless `detector` scores frame by frame."""
    if getattr(detector, "kind", "") != "cae":
        raise LiveScoringError(
            f"LiveScorer scores with a CAE, not a {getattr(detector, 'kind', '?').upper()} detector (CHANGE scores "
            "live through detection.live.change; MIL's segment scores cannot score a live stream)")
    if detector.config.sequence_length != 1:
        raise LiveScoringError("a CAE in sequence mode (sequence_length > 1) cannot score a live stream yet")


def _peak_position(heatmap: np.ndarray) -> tuple[float, float]:
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return (col + 0.5) / heatmap.shape[1], (row + 0.5) / heatmap.shape[0]


class AlertTracker:
    """Opens an alert when a score reaches `threshold`, raises its peak while it grows, and closes it after
    `max_gap` seconds below: the alerts of one detector's scores as they come, in time order."""

    def __init__(self, threshold: float, max_gap: float):
        self.threshold, self.max_gap = float(threshold), float(max_gap)
        self.alert: LiveAlert | None = None
        self._below_since: float | None = None

    def track(self, time: float, score: float, peak: tuple[float | None, float | None] = (None, None)
              ) -> tuple[LiveAlert | None, bool]:
        """Open, raise or close the current alert with a frame's score and its peak (x, y fractions);
        returns (the alert if it changed, whether it opened)."""
        if score >= self.threshold:
            self._below_since = None
            x, y = peak
            if self.alert is None:
                self.alert = LiveAlert(start=time, end=time, peak_time=time, peak_score=score, peak_x=x, peak_y=y)
                return self.alert, True
            self.alert.end = time
            if score > self.alert.peak_score:
                self.alert.peak_time, self.alert.peak_score, self.alert.peak_x, self.alert.peak_y = time, score, x, y
                return self.alert, False
            return None, False
        if self.alert is not None:
            self._below_since = self._below_since if self._below_since is not None else time
            if time - self._below_since > self.max_gap:
                closed, self.alert = self.alert, None
                closed.open = False
                return closed, False
        return None, False

    def close(self) -> LiveAlert | None:
        """End the open alert (None when none is open)."""
        closed, self.alert = self.alert, None
        if closed is not None:
            closed.open = False
        return closed


class LiveScorer:
    """Score sampled frames one at a time with a loaded CAE; keeps every raw score and map for `final_scores`."""

    def __init__(self, detector, *, threshold: float | None = None, times=(), raw=(), heatmaps=None):
        check_live(detector)
        self.detector = detector
        config = detector.config
        # Alerts at `threshold` when given (an admin may have set another than the file's), else the file's.
        self.threshold = float(detector.threshold if threshold is None else threshold)
        self.max_gap = float(config.event_max_gap)
        self.times: list[float] = [float(t) for t in times]
        self.raw: list[float] = [float(r) for r in raw]
        self.heatmaps: list[np.ndarray] = list(heatmaps) if heatmaps is not None else []
        self._recent: deque[float] = deque(maxlen=max(1, config.temporal_window))
        self.alerts = AlertTracker(self.threshold, self.max_gap)

    def raw_score(self, image: np.ndarray) -> tuple[float, np.ndarray]:
        """Raw score and pooled error map (h, w) float16 of one (H, W, 3) uint8 frame."""
        from detection.cae.scoring import raw_frame_scores

        raw = raw_frame_scores(self.detector.model, image[None], self.detector.config)
        return float(raw.scores[0]), raw.heatmaps[0]

    def online_score(self, raw: float) -> float:
        """The causal version of the final score (see the module docstring)."""
        config, norm = self.detector.config, self.detector.normalisation
        value = raw
        if config.video_relative:
            value = raw - float(np.median(self.raw)) + norm["score_mean"]
        if config.normalise_scores:
            value = (value - norm["score_mean"]) / norm["score_std"]
        self._recent.append(value)
        return float(np.median(self._recent))

    def score(self, time: float, image: np.ndarray) -> LiveScore:
        raw, heatmap = self.raw_score(image)
        self.times.append(float(time))
        self.raw.append(raw)
        self.heatmaps.append(heatmap)
        score = self.online_score(raw)
        changed, opened = self.alerts.track(float(time), score, _peak_position(heatmap.astype(np.float32)))
        return LiveScore(time=float(time), raw=raw, score=score, changed=changed, opened=opened)

    def close(self) -> LiveAlert | None:
        """End the open alert at the stream's end (None when none is open)."""
        return self.alerts.close()

    def final_scores(self, frames: np.ndarray, times: np.ndarray) -> tuple[VideoScores, int]:
        """The recording's scores at ingest's sampled `times` (frames (N, H, W, 3) uint8), as `score_frames`
        gives them; returns (scores, how many frames had to be scored now because the live reader dropped them)."""
        from detection.cae.scoring import RawScores, raw_frame_scores

        times = np.asarray(times, dtype=np.float64)
        live_times = np.asarray(self.times, dtype=np.float64)
        order = np.argsort(live_times)
        live_times = live_times[order]
        nearest = np.searchsorted(live_times, times).clip(0, max(len(live_times) - 1, 0))
        if len(live_times):
            before = (nearest - 1).clip(0)
            closer = np.abs(live_times[before] - times) < np.abs(live_times[nearest] - times)
            nearest = np.where(closer, before, nearest)
            found = np.abs(live_times[nearest] - times) <= MATCH_TOLERANCE
        else:
            found = np.zeros(len(times), dtype=bool)
        missing = np.flatnonzero(~found)
        config = self.detector.config
        shape = (self.heatmaps[0].shape if self.heatmaps else None)
        extra = raw_frame_scores(self.detector.model, np.asarray(frames[missing]), config) if len(missing) else None
        if shape is None and extra is not None:
            shape = extra.heatmaps.shape[1:]
        raw = np.zeros(len(times), dtype=np.float32)
        maps = np.zeros((len(times), *(shape or (1, 1))), dtype=np.float16)
        if found.any():
            picked = order[nearest[found]]
            raw[found] = np.asarray(self.raw, dtype=np.float32)[picked]
            maps[found] = np.stack([self.heatmaps[i] for i in picked])
        if extra is not None:
            raw[missing], maps[missing] = extra.scores, extra.heatmaps
        return self.detector.scores_from_raw(times, RawScores(scores=raw, heatmaps=maps)), len(missing)
