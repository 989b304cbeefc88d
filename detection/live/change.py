"""CHANGE scoring of a live stream: the newest frame compared with the reference flights, at the pace the
comparison allows.

Comparing one frame with its candidate reference frames takes about a second at 1280x720 on a small CPU, longer
than the analysis rate leaves. `ChangeThread` runs `LiveChangeScorer` in its own thread and holds only the newest
frame offered while it compares: it always works on the newest frame and skips the others (counted), never
queues them, while the CAE keeps scoring every sampled frame in the live loop.

Matching is online and uses the detector's own per-frame path (`ChangeDetector.candidates`, then its
comparator's `compare_frame`). With telemetry, a frame's pose picks the nearest reference frames, as in the
batch pass. Without, the last `window` sampled frames (every frame offered, compared or skipped, is seen) are
matched to each reference flight by the batch's monotone-path retrieval and the newest frame's row is taken:
the path, and so the match, only knows the flight so far: a new object that pushes the newest frames off
the path (it changes their global descriptor) would leave them without a reference until a later frame came
back on it, so the path's end is continued at its recent pace (`causal=True`, timeline._extend_end).
Telemetry sent live grows while the drone flies (`set_poses`, from another thread): a frame is matched by pose
when the poses received cover its time (a pose at most `pose_age` seconds before it, or poses at most
`pose_gap` apart on both sides of it) and the reference flights have poses too, and visually otherwise; each
result says which (`by_pose`). The live score is the causal form of the batch's persistence: with persistence
on the ground (`ground_radius`), this frame's change where the last compared frame, moved into this view by
today's own motion, sees it too; in files before it, the lowest of the last `persistence` compared frames'
scores. Either way an alert waits for a change to last two comparisons, unless one comparison alone reaches
`single_threshold`: the same false-alarm quantile of the validation normals' single comparisons
(`extra["single_frame_ratio"]` times the threshold; a change that rare need not wait a sample, which is half a
second of alert latency at 2 fps). A frame with no reference nearby, or whose candidates all failed to align,
scores 0 and never alerts (as in the batch).
The recording is scored by the batch pass afterwards, whose matching sees the whole flight: the live alerts'
events are then replaced by its events (reviews carried over).
"""

from __future__ import annotations

import threading
import time as clock
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from detection.events import heatmap_peak
from detection.live.scoring import AlertTracker, LiveAlert, LiveScoringError

THUMB_SIDE = 128  # shorter side of the frames kept for visual matching (the descriptor samples a 64-pixel disc)


@dataclass(frozen=True)
class ChangeScore:
    """One compared frame: `score` the live (persistence-filtered) score, `raw` the comparison's own score."""

    time: float
    score: float
    raw: float
    status: int  # detection.change.detector.STATUS_*
    changed: LiveAlert | None  # the alert opened, raised or closed by this frame, if any
    opened: bool
    seconds: float  # how long the comparison took
    by_pose: bool = False  # its reference frames were picked by telemetry (else visually)
    references: tuple[int, ...] = ()  # the reference frames it was compared with (global index)


def pose_covers(poses, time: float, *, max_age: float = 1.0, max_gap: float = 5.0) -> bool:
    """Whether `poses` (a PoseTable) tell where the drone was at `time`: the newest pose at or before it is at
    most `max_age` seconds old (held, or interpolated towards the next), or the poses on both sides of it are
    at most `max_gap` apart (interpolated)."""
    if poses is None or len(poses) == 0:
        return False
    before = int(np.searchsorted(poses.time, time, side="right")) - 1
    if before < 0:
        return False
    if time - poses.time[before] <= max_age:
        return True
    return before + 1 < len(poses) and poses.time[before + 1] - poses.time[before] <= max_gap


def _thumbnail(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    scale = THUMB_SIDE / min(height, width)
    if scale >= 1:
        return frame
    return cv2.resize(frame, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


class LiveChangeScorer:
    """Compare frames one at a time, in time order, with a loaded ChangeDetector (see the module docstring).

    `poses` is the flight's PoseTable (detection.telemetry) as known so far, else None (visual matching over
    the last `window` compared frames); `set_poses` replaces it as telemetry arrives. Frames are (H, W, 3)
    uint8 RGB with the reference flights' aspect, best at the detector's analysis size or larger.
    """

    def __init__(self, detector, *, threshold: float | None = None, poses=None, window: int = 60,
                 pose_age: float = 1.0, pose_gap: float = 5.0):
        if getattr(detector, "kind", "") != "change":
            raise LiveScoringError(f"LiveChangeScorer takes a CHANGE detector, not {getattr(detector, 'kind', '?')}")
        self.detector, self._poses = detector, poses
        self.pose_age, self.pose_gap = pose_age, pose_gap
        self._poses_lock = threading.Lock()
        config = detector.config
        self.threshold = float(detector.threshold if threshold is None else threshold)
        # One comparison alone alerts at this level (the validation normals' same false-alarm quantile before
        # the persistence filter, detection.change.train); a detector file without it always waits.
        ratio = detector.extra.get("single_frame_ratio")
        self.single_threshold = self.threshold * float(ratio) if ratio else float("inf")
        self.alerts = AlertTracker(self.threshold, config.event_max_gap)
        self._recent: deque[float] = deque(maxlen=max(1, config.persistence))
        self._window: deque[tuple[float, np.ndarray]] = deque(maxlen=max(1, window))
        self._window_lock = threading.Lock()  # `see` may run in another thread than `score`
        self._previous = None  # the last frame compared, for one whose candidates fail to align (detector.compare)
        self._last = None  # the last frame compared and its result, for persistence on the ground

    @property
    def poses(self):
        with self._poses_lock:
            return self._poses

    def set_poses(self, poses) -> None:
        """The flight's poses received so far (a PoseTable, or None); safe while `score` runs in another thread,
        which uses them from its next frame on."""
        with self._poses_lock:
            self._poses = poses

    def matches_by_pose(self, time: float, poses) -> bool:
        """Whether the frame at `time` is matched by `poses` rather than visually."""
        index = self.detector.index
        return (index.has_poses and index.origin is not None
                and pose_covers(poses, time, max_age=self.pose_age, max_gap=self.pose_gap))

    def see(self, time: float, frame: np.ndarray) -> None:
        """Add a sampled frame to the flight so far for visual matching, without comparing it."""
        with self._window_lock:
            if not self._window or self._window[-1][0] < time:
                self._window.append((float(time), _thumbnail(frame)))

    def warm_up(self) -> float:
        """Compare one reference frame with itself, as a frame of the stream would be compared, before the
        stream's first frame comes; returns the seconds it took. The first comparison of a process pays for
        torch's and OpenCV's first calls (about a second on 2 cores), which would otherwise fall on the
        flight's first frames: the thread would skip the frames offered meanwhile, and a change in view at
        take-off would wait for a later frame."""
        import torch

        started = clock.perf_counter()
        detector = self.detector
        if len(detector.index):
            frame = detector.reference_frame(0)
            with torch.inference_mode():
                # as many candidates as a frame of the stream has, so that the CNN's batch has its shape too
                detector.compare(detector.analysis_frames(frame[None], 0),
                                 [(0, frame)] * max(1, detector.config.candidates))
        return clock.perf_counter() - started

    def score(self, time: float, frame: np.ndarray) -> ChangeScore:
        import torch

        from detection.change.detector import STATUS_NO_REFERENCE, STATUS_OK

        started = clock.perf_counter()
        detector = self.detector
        today = detector.analysis_frames(frame[None], 0)  # refuses a frame of another aspect, clearly
        self.see(time, frame)
        poses = self.poses
        by_pose = self.matches_by_pose(time, poses)
        if by_pose:
            times, thumbs = np.array([float(time)]), _thumbnail(frame)[None]
        else:
            poses = None
            with self._window_lock:
                seen = [(t, thumb) for t, thumb in self._window if t <= time]
            times, thumbs = np.array([t for t, _ in seen]), np.stack([thumb for _, thumb in seen])
        with torch.inference_mode():
            chosen, no_reference = detector.candidates(thumbs, times, poses, causal=True)
            references = [(int(j), detector.reference_frame(int(j))) for j in chosen[-1] if j >= 0]
            if no_reference[-1] or not references:
                status, raw, peak, result = STATUS_NO_REFERENCE, 0.0, (None, None), None
                self._previous = None
            else:
                result, self._previous = detector.compare(today, references, self._previous)
                status, raw, peak = result.status, result.score, (None, None)
                if result.map is not None:
                    peak = heatmap_peak(detector.heatmap(result.map))
        if detector.config.on_ground:  # the pair of this frame and the last compared one, in this frame's view
            last, self._last = self._last, (today, result) if status == STATUS_OK and result.map is not None else None
            score = 0.0
            if last is not None and self._last is not None:
                score = detector.confirmed(result, last[1], detector.motion(today, last[0]))
        else:
            self._recent.append(raw if status == STATUS_OK else 0.0)
            score = float(min(self._recent)) if len(self._recent) == self._recent.maxlen else 0.0
        if status == STATUS_OK and raw >= self.single_threshold:
            score = max(score, self.threshold * raw / self.single_threshold)  # on the threshold's scale
        changed, opened = self.alerts.track(float(time), score, peak)
        return ChangeScore(time=float(time), score=score, raw=float(raw), status=int(status), changed=changed,
                           opened=opened, seconds=clock.perf_counter() - started, by_pose=by_pose,
                           references=tuple(j for j, _ in references))

    def close(self) -> LiveAlert | None:
        """End the open alert at the stream's end (None when none is open)."""
        return self.alerts.close()


class ChangeThread(threading.Thread):
    """Runs a LiveChangeScorer on the newest frame offered; see the module docstring.

    It warms up first (`LiveChangeScorer.warm_up`), so start it before the stream's first frame.
    `offer(time, frame)` never waits: a frame offered while another waits replaces it (`skipped` counts them).
    `take()` returns the results made since the last call. A failure stops the thread with `error` set.
    `compared` counts the frames compared, `by_telemetry` those of them matched by pose.
    """

    def __init__(self, scorer: LiveChangeScorer):
        super().__init__(name="live-change", daemon=True)
        self.scorer = scorer
        self.skipped = 0
        self.compared = 0
        self.by_telemetry = 0
        self.error = ""
        self.warmed_in: float | None = None  # seconds the warm-up comparison took, once done (LiveChangeScorer)
        self._pending: tuple[float, np.ndarray] | None = None
        self._results: list[ChangeScore] = []
        self._lock = threading.Condition()
        self._stopping = False

    def offer(self, time: float, frame: np.ndarray) -> None:
        self.scorer.see(time, frame)
        with self._lock:
            if self._pending is not None:
                self.skipped += 1
            self._pending = (time, frame)
            self._lock.notify_all()

    def take(self) -> list[ChangeScore]:
        with self._lock:
            taken, self._results = self._results, []
        return taken

    def stop(self, *, finish: bool = True) -> None:
        """Stop after the comparison under way, and with `finish` after the frame waiting too; returns when done."""
        with self._lock:
            if not finish:
                self._pending = None
            self._stopping = True
            self._lock.notify_all()
        if self.is_alive():
            self.join()

    def run(self) -> None:
        try:
            self.warmed_in = self.scorer.warm_up()
        except Exception as exc:  # noqa: BLE001 - as a comparison's failure: reported, the recording goes on
            self.error = f"CHANGE live scoring could not start: {type(exc).__name__}: {exc}"
            return
        while True:
            with self._lock:
                while self._pending is None and not self._stopping:
                    self._lock.wait()
                if self._pending is None:
                    return
                (time, frame), self._pending = self._pending, None
            try:
                result = self.scorer.score(time, frame)
            except Exception as exc:  # noqa: BLE001 - the live loop reports it; the recording goes on
                self.error = f"CHANGE live scoring stopped: {type(exc).__name__}: {exc}"
                return
            with self._lock:
                self._results.append(result)
                self.compared += 1
                self.by_telemetry += result.by_pose
