"""What dismissed changes looked like: a review lesson that holds wherever the change sits in the frame.

A dismissed event teaches its place (index.py: its frames join the index as a reviewed flight, so today's frame
at that place finds a candidate that already shows the change). Some false alarms are not tied to a place on
the ground: sun glint sits where the sun's reflection falls for the drone's heading and slides over the water
with the drone, lens dirt and rain stay put in the frame; the next flight shows them somewhere else, where no
review was made. What such a change keeps is its look.

So training also keeps, from each dismissed frame, the CNN features of today's frame over every change the
detector saw there at least half as strong as the strongest (each a peak region of its change map: the
connected cells at half the peak or more, as compare.change_region draws it; an analyst who dismisses the
frame's event says none of them matters): the **dismissed looks**; and from each frame of a labelled
(confirmed) anomaly, the features over its strongest change: the **confirmed looks**. When a frame is
compared, its strongest change is judged as a whole, as an analyst judges an event: it is explained, and counts
as nothing changed (as if masked), when its look is a dismissed one: the median over its cells of the distance
to the nearest dismissed look is within `radius`, and below the median distance to the nearest confirmed look
(a nearest-neighbour vote with a reject radius: what an analyst confirmed is never learned away by a dismissal
that merely resembles it). Then the next strongest change is judged, up to MAX_EXPLAINED per frame, on the
frame's scale from before (its robust z-scores keep the median and spread of the whole frame), so explaining
one change never raises another's score. `radius` comes from the dismissed looks themselves: each dismissed
change, judged by the looks of the other dismissed events (of the other changes when one event was dismissed),
has such a median; `radius` is the largest, the distance at which every dismissed change is recognised by the
others, i.e. how far the dismissed kind of change varies between events. Nothing is tuned to a preset, and a
detector trained without reviews has no looks.

Each look records the reviewed flight it came from (`sources`, the training item's number). The threshold is
chosen before any look is applied (train.py, step 4): the looks only lower scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from detection.errors import DetectorFileError

MAX_LOOKS = 2048  # looks kept per set (evenly thinned beyond it): bounds the per-frame cost
MAX_EXPLAINED = 64  # changes judged per frame, strongest first, before the rest stand (a bound on the cost)


@dataclass
class Looks:
    dismissed: np.ndarray  # (D, C) float32 CNN features of today's frame over dismissed changes
    dismissed_sources: np.ndarray  # (D,) int64: the training item each came from
    confirmed: np.ndarray  # (P, C) float32 CNN features at labelled anomalies' peaks
    confirmed_sources: np.ndarray  # (P,) int64
    radius: float

    def __len__(self) -> int:
        return len(self.dismissed)

    def explains(self, features: np.ndarray) -> bool:
        """Whether a change whose cells have CNN features `features` (n, C) looks like a dismissed one."""
        if not len(features) or not len(self.dismissed):
            return False
        distance = float(np.median(nearest(features, self.dismissed)))
        if distance > self.radius:
            return False
        return not len(self.confirmed) or distance < float(np.median(nearest(features, self.confirmed)))

    # -- detector files ---------------------------------------------------------------------------------------
    def to_payload(self) -> tuple[dict, dict]:
        state = {f"looks.{name}": torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                 for name in ("dismissed", "dismissed_sources", "confirmed", "confirmed_sources")}
        return state, {"radius": float(self.radius), "dismissed": len(self.dismissed),
                       "confirmed": len(self.confirmed)}

    @classmethod
    def from_payload(cls, state: dict, extra: dict, channels: int | None) -> Looks:
        names = ("dismissed", "dismissed_sources", "confirmed", "confirmed_sources")
        missing = [name for name in names if f"looks.{name}" not in state]
        if missing or not isinstance(extra, dict) or "radius" not in extra:
            raise DetectorFileError(f"the CHANGE detector's dismissed looks are incomplete (missing "
                                    f"{', '.join(missing) or 'radius'}); retrain it")
        arrays = {name: state[f"looks.{name}"].numpy() for name in names}
        looks = cls(radius=float(extra["radius"]), **arrays)
        problems = []
        for name in ("dismissed", "confirmed"):
            values, sources = arrays[name], arrays[f"{name}_sources"]
            if values.ndim != 2 or len(sources) != len(values):
                problems.append(f"{name} looks have shape {tuple(values.shape)} with {len(sources)} sources")
            elif channels is not None and len(values) and values.shape[1] != channels:
                problems.append(f"{name} looks have {values.shape[1]} channels, the detector's CNN {channels}")
        if not np.isfinite(looks.radius) or looks.radius < 0:
            problems.append(f"radius {looks.radius}")
        if problems:
            raise DetectorFileError("the CHANGE detector's dismissed looks do not fit: " + "; ".join(problems))
        return looks


def _thinned(count: int) -> np.ndarray:
    """Indices of at most MAX_LOOKS of `count` rows, evenly spread."""
    return np.unique(np.linspace(0, count - 1, min(count, MAX_LOOKS)).round().astype(np.int64))


def nearest(cells: torch.Tensor | np.ndarray, looks: np.ndarray) -> np.ndarray:
    """(N,) distance from each of `cells` (N, C) to its nearest look (L, C)."""
    cells = torch.as_tensor(np.ascontiguousarray(cells, dtype=np.float32))
    return torch.cdist(cells, torch.from_numpy(np.ascontiguousarray(looks, dtype=np.float32))).min(dim=1).values.numpy()


def repeat_radius(values: np.ndarray, changes: np.ndarray, groups: np.ndarray) -> float:
    """The largest, over the changes, of the median distance from a change's `values` (N, C) to the nearest
    value of another group (inf with one group only)."""
    if len(np.unique(groups)) < 2:
        return float("inf")
    distances = torch.cdist(torch.from_numpy(values), torch.from_numpy(values))
    distances[torch.from_numpy(groups[:, None] == groups[None, :])] = float("inf")
    near = distances.min(dim=1).values.numpy()
    return float(max(np.median(near[changes == change]) for change in np.unique(changes)))


def from_features(dismissed: list[tuple[int, int, int, np.ndarray]],
                confirmed: list[tuple[int, np.ndarray]]) -> Looks | None:
    """Looks from [(training item, dismissed event, change, features (n, C))] over dismissed changes and
    [(training item, features (n, C))] at confirmed anomalies (None without a dismissed change). The radius is
    measured between events when more than one was dismissed, else between changes."""
    dismissed = [d for d in dismissed if len(d[3])]
    if not dismissed:
        return None
    values = np.concatenate([d[3] for d in dismissed]).astype(np.float32)
    sources = np.concatenate([np.full(len(d[3]), d[0], np.int64) for d in dismissed])
    events = np.array([(d[0], d[1]) for d in dismissed for _ in range(len(d[3]))], np.int64)
    changes = np.array([(d[0], d[1], d[2]) for d in dismissed for _ in range(len(d[3]))], np.int64)
    keep = _thinned(len(values))
    values, sources, events, changes = values[keep], sources[keep], events[keep], changes[keep]
    event_groups = np.unique(events, axis=0, return_inverse=True)[1].ravel()
    change_groups = np.unique(changes, axis=0, return_inverse=True)[1].ravel()
    radius = repeat_radius(values, change_groups, event_groups if event_groups.max() > 0 else change_groups)
    if not np.isfinite(radius):
        return None  # one change of one event: nothing says how the kind repeats
    confirmed = [c for c in confirmed if len(c[1])]
    if confirmed:
        positives = np.concatenate([c[1] for c in confirmed]).astype(np.float32)
        positive_sources = np.concatenate([np.full(len(c[1]), c[0], np.int64) for c in confirmed])
        keep = _thinned(len(positives))
        positives, positive_sources = positives[keep], positive_sources[keep]
    else:
        positives, positive_sources = np.zeros((0, values.shape[1]), np.float32), np.zeros(0, np.int64)
    return Looks(values, sources, positives, positive_sources, radius)
