"""Object-intervals: each labelled object's contiguous appearance, with its size in native-resolution pixels.

Recall per object size and per class counts objects, not frames: a small boat seen for ten seconds is one
object to find, not twenty frames. The generator's ground truth lists, per frame, each object in view
(class, box, pixel count) but no identity across frames, so identities are derived here: an object in frame
f continues the nearest object of the same class in frame f-1 (closest box centres first); one that continues
nothing starts a new object-interval, and so does an object back in view after a frame without it. There is
no distance limit: the generated patrols turn sharply enough to move an object 70 px (half a 160x120 frame)
between two frames, and a limit would count such an object twice. A ground truth that does carry an
`object_id` array (a later generator may) is used as it is.

An object's size is the side of the square of its mask's pixel area, sqrt(area), at the video's native
resolution (the generated size scaled to the decoded one if they differ), the median over its frames, so
that the frames where it enters or leaves the view half cut off do not make it smaller than it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.types import Interval

TIME_DECIMALS = 3  # seconds are rounded as the ground truth's own intervals are (GroundTruth.intervals)


@dataclass(frozen=True)
class ObjectInterval:
    """One object's contiguous appearance [start, end] seconds; size_px None when no mask is known."""

    start: float
    end: float
    anomaly_class: str
    size_px: float | None = None


def from_intervals(intervals: tuple[Interval, ...]) -> tuple[ObjectInterval, ...]:
    """Without ground-truth masks each labelled interval is taken as one object of unknown size."""
    return tuple(ObjectInterval(i.start, i.end, i.anomaly_class or "unnamed") for i in intervals)


def _link_by_position(frames: np.ndarray, classes: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(R,) track number of each ground-truth row, linking same-class rows in consecutive frames."""
    centres = (boxes[:, :2] + boxes[:, 2:]).astype(np.float64) / 2
    track = np.full(len(frames), -1, dtype=np.int64)
    previous = np.array([], dtype=np.int64)
    next_track = 0
    for frame in np.unique(frames):
        rows = np.flatnonzero(frames == frame)
        if len(previous) and frames[previous[0]] == frame - 1:
            distance = np.linalg.norm(centres[rows, None] - centres[None, previous], axis=2)  # (rows, previous)
            distance[classes[rows, None] != classes[None, previous]] = np.inf
            for flat in np.argsort(distance, axis=None):
                r, p = np.unravel_index(flat, distance.shape)
                if not np.isfinite(distance[r, p]):
                    break
                if track[rows[r]] < 0 and track[previous[p]] not in track[rows]:
                    track[rows[r]] = track[previous[p]]
        for row in rows[track[rows] < 0]:
            track[row], next_track = next_track, next_track + 1
        previous = rows
    return track


def _split_gaps(frames: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(R,) track number per row from given object ids, a new one wherever an object's frames skip one."""
    track = np.full(len(frames), -1, dtype=np.int64)
    next_track = 0
    for object_id in np.unique(ids):
        rows = np.flatnonzero(ids == object_id)
        rows = rows[np.argsort(frames[rows], kind="stable")]
        runs = np.cumsum(np.diff(frames[rows], prepend=frames[rows[0]] - 1) != 1)  # 0, 0, 1, ... per run
        track[rows] = next_track + runs
        next_track += int(runs[-1]) + 1
    return track


def object_tracks(truth) -> np.ndarray:
    """(R,) object-interval number of each per-frame row of a `detection.synth.groundtruth.GroundTruth`."""
    frames = np.asarray(truth.object_frame, dtype=np.int64)
    if len(frames) == 0:
        return np.zeros(0, dtype=np.int64)
    ids = getattr(truth, "object_id", None)
    if ids is not None:
        return _split_gaps(frames, np.asarray(ids))
    return _link_by_position(frames, np.asarray(truth.object_class), np.asarray(truth.object_box))


def _seconds(first: int, last: int, fps: float) -> tuple[float, float]:
    """[start, end] of frames first..last, ending just before the next frame (as GroundTruth.intervals does)."""
    step = 10.0**-TIME_DECIMALS
    start = round(first / fps, TIME_DECIMALS)
    end = round((last + 1) / fps - step, TIME_DECIMALS)
    return start, max(end, start + step)


def object_intervals(truth, native_size: tuple[int, int] | None = None) -> tuple[ObjectInterval, ...]:
    """Every object-interval of a generated video's ground truth, sorted by start.

    `native_size` (h, w) is the decoded video's size; None (or the generated size) means no scaling.
    """
    tracks = object_tracks(truth)
    height, width = truth.size
    scale = 1.0 if native_size is None else float(np.sqrt(native_size[0] * native_size[1] / (height * width)))
    frames, pixels = np.asarray(truth.object_frame), np.asarray(truth.object_pixels, dtype=np.float64)
    found = []
    for track in np.unique(tracks):
        rows = np.flatnonzero(tracks == track)
        start, end = _seconds(int(frames[rows].min()), int(frames[rows].max()), truth.fps)
        name = str(truth.class_names[int(truth.object_class[rows[0]])])
        found.append(ObjectInterval(start, end, name, float(np.sqrt(np.median(pixels[rows]))) * scale))
    return tuple(sorted(found, key=lambda o: (o.start, o.anomaly_class)))
