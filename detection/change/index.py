"""The reference index: everything scoring needs from the reference flights, so they are never decoded again.

Per reference frame (M in all, flights concatenated): its flight, time, pose (east, north, altitude metres
about `origin`; NaN without telemetry), global descriptor (timeline.frame_descriptors), the frame itself as
JPEG at the analysis size, and its leave-one-out residual maps (2, gh, gw) float16: the colour and CNN
distances left when the frame is compared with the other reference flights, i.e. what varies normally at that
place. Plus the two branches' global scales. Optionally (absent in version-1 files, and the CNN maps when the
CNN branch is off), what scoring would otherwise recompute for every pair a reference frame is in: its
alignment keypoints (positions and descriptors at the alignment's working size, concatenated, with offsets)
and its CNN feature maps at the network's own stride, uint8 with a per-channel offset and step.

Reviews add frames (version 3): the frames of events an analyst dismissed on other flights, each flight's as
one more "reviewed flight" numbered after the R reference flights. Such a frame is a normal observation of its
place, so a frame of today at that place is compared with it too, on top of its candidates from the reference
flights (`reviewed_candidates`): a change dismissed there finds a candidate that already shows it, and the
minimum over candidates stays low. A reviewed frame's place is where it lies along the route: `anchors` holds,
for each reviewed frame, the frame of each reference flight that showed its place when it was indexed (as
`ChangeDetector.place_matches` finds them, by telemetry or by appearance), -1 for reference frames. A frame of
today is at a reviewed frame's place when most of the reference flights it shares with it show it within a
frame of the same place.

In a detector file (detection.detector_file) the arrays are tensors in `state` under "index.*" and the rest
plain values in `extra["index"]`; `from_payload` checks that they fit together and raises DetectorFileError
naming what does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from detection.change.features import decode_jpeg, dequantise_maps
from detection.errors import DetectorFileError

INDEX_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
ARRAYS = ("flight", "times", "poses", "descriptors", "jpeg_data", "jpeg_offsets", "residuals", "scales")
OPTIONAL_ARRAYS = ("keypoint_points", "keypoint_descriptors", "keypoint_offsets", "cnn_codes", "cnn_ranges",
                   "anchors")
PLACE_REACH = 1  # frames of a reference flight apart that still count as the same place


@dataclass
class ReferenceIndex:
    reference_ids: list[str]
    flight: np.ndarray  # (M,) int64
    times: np.ndarray  # (M,) float64
    poses: np.ndarray  # (M, 3) float64, NaN without telemetry
    descriptors: np.ndarray  # (M, D) float32
    jpeg_data: np.ndarray  # (bytes,) uint8: the frames' JPEGs, one after another
    jpeg_offsets: np.ndarray  # (M + 1,) int64
    residuals: np.ndarray  # (M, 2, gh, gw) float16
    scales: np.ndarray  # (2,) float32
    analysis_size: tuple[int, int]  # (w, h)
    origin: tuple[float, float] | None = None  # (latitude, longitude) of the poses' local metres
    keypoint_points: np.ndarray | None = None  # (P, 2) float32, every frame's keypoints one after another
    keypoint_descriptors: np.ndarray | None = None  # (P, D)
    keypoint_offsets: np.ndarray | None = None  # (M + 1,) int64
    keypoint_sizes: tuple[tuple[int, int], tuple[int, int]] | None = None  # (frame size, working size) (w, h)
    cnn_codes: np.ndarray | None = None  # (M, C, fh, fw) uint8
    cnn_ranges: np.ndarray | None = None  # (M, C, 2) float32 [offset, step]
    anchors: np.ndarray | None = None  # (M, R) int64: a reviewed frame's place on each reference flight, else -1

    def __len__(self) -> int:
        return len(self.flight)

    def jpeg(self, index: int) -> bytes:
        return self.jpeg_data[self.jpeg_offsets[index] : self.jpeg_offsets[index + 1]].tobytes()

    def frame(self, index: int) -> np.ndarray:
        """(h, w, 3) uint8 RGB reference frame `index` at the analysis size."""
        image = decode_jpeg(self.jpeg(index))
        if image is None or (image.shape[1], image.shape[0]) != tuple(self.analysis_size):
            raise DetectorFileError(f"reference frame {index} of the index is damaged (its JPEG does not decode "
                                    f"to {self.analysis_size[0]}x{self.analysis_size[1]}); retrain the detector")
        return image

    @property
    def has_keypoints(self) -> bool:
        return self.keypoint_offsets is not None and self.keypoint_sizes is not None

    @property
    def has_cnn_maps(self) -> bool:
        return self.cnn_codes is not None and self.cnn_ranges is not None

    def keypoints(self, index: int):
        """Reference frame `index`'s alignment keypoints (align.Keypoints), or None when not indexed."""
        if not self.has_keypoints:
            return None
        from detection.change.align import Keypoints

        start, stop = int(self.keypoint_offsets[index]), int(self.keypoint_offsets[index + 1])
        size, work = self.keypoint_sizes
        return Keypoints(tuple(size), tuple(work), self.keypoint_points[start:stop],
                         self.keypoint_descriptors[start:stop])

    def cnn_map(self, index: int) -> np.ndarray | None:
        """Reference frame `index`'s CNN feature map (fh, fw, C) float32, or None when not indexed."""
        if not self.has_cnn_maps:
            return None
        return dequantise_maps(self.cnn_codes[index], self.cnn_ranges[index])

    def flight_indices(self, flight: int) -> np.ndarray:
        return np.flatnonzero(self.flight == flight)

    @property
    def reference_flights(self) -> int:
        """R: flights 0..R-1 are reference flights, the later ones reviewed flights (dismissed events' frames)."""
        return len(self.reference_ids) if self.anchors is None else int(self.anchors.shape[1])

    @property
    def has_poses(self) -> bool:
        """Whether every reference frame has a position (a reviewed flight without telemetry changes nothing:
        its frames are matched by their anchors)."""
        poses = self.poses[self.flight < self.reference_flights, :2]
        return len(poses) > 0 and bool(np.all(np.isfinite(poses)))

    def reviewed_candidates(self, matches: np.ndarray, *, exclude_flight: int = -1) -> np.ndarray:
        """(N, V) global indices of the reviewed frames at the places of today's N frames, one per reviewed
        flight (V of them; -1 none), from today's (N, K) matches (global reference frame indices, -1 none).

        A reviewed frame is at today's frame's place when, on most of the reference flights where both have a
        match, the two matches lie at most PLACE_REACH frames apart; of a flight's reviewed frames the one
        agreeing on the most flights (then the nearest in frames) is taken."""
        reviewed = [f for f in range(self.reference_flights, len(self.reference_ids)) if f != exclude_flight]
        result = np.full((len(matches), len(reviewed)), -1, dtype=np.int64)
        if not reviewed or not len(matches):
            return result
        today = self.per_flight(matches)  # (N, R)
        for column, flight in enumerate(reviewed):
            members = self.flight_indices(flight)
            anchors = self.anchors[members]  # (S, R)
            both = (today[:, None, :] >= 0) & (anchors[None, :, :] >= 0)  # (N, S, R)
            apart = np.abs(today[:, None, :] - anchors[None, :, :])
            agree = (both & (apart <= PLACE_REACH)).sum(axis=2)  # (N, S)
            shared = both.sum(axis=2)
            at_place = (agree > 0) & (2 * agree >= shared)
            rank = np.where(at_place, agree * 1e6 - np.where(both, apart, 0).sum(axis=2), -np.inf)
            best = np.argmax(rank, axis=1)
            found = np.isfinite(rank[np.arange(len(matches)), best])
            result[found, column] = members[best[found]]
        return result

    def with_reviewed(self, parts: list[tuple[ReferenceIndex, np.ndarray]]) -> ReferenceIndex:
        """This index of reference flights with reviewed flights appended. Each part is (the index of one
        reviewed flight's dismissed frames, built as a reference flight's is and with its residuals filled,
        their (S, R) anchors); the scales stay this index's."""
        if self.anchors is not None:
            raise ValueError("the index already holds reviewed flights: build it from its reference flights again")
        count, flights = len(self), self.reference_flights
        pieces = [self, *(part for part, _ in parts)]
        for part, anchors in parts:
            if tuple(part.analysis_size) != tuple(self.analysis_size) or part.keypoint_sizes != self.keypoint_sizes:
                raise ValueError("a reviewed flight's frames were indexed at another size than the references'")
            if np.asarray(anchors).shape != (len(part), flights):
                raise ValueError(f"anchors of shape {np.asarray(anchors).shape} for {len(part)} frames and "
                                 f"{flights} reference flights")

        def joined(name: str) -> np.ndarray:
            return np.concatenate([getattr(piece, name) for piece in pieces])

        def offsets(name: str, data: str) -> np.ndarray:
            starts = np.cumsum([0] + [len(getattr(piece, data)) for piece in pieces[:-1]])
            return np.concatenate([[0]] + [getattr(piece, name)[1:] + start for piece, start in zip(pieces, starts)])

        keypoints = self.has_keypoints and all(part.has_keypoints for part, _ in parts)
        maps = self.has_cnn_maps and all(part.has_cnn_maps for part, _ in parts)
        index = ReferenceIndex(
            reference_ids=[*self.reference_ids, *(i for part, _ in parts for i in part.reference_ids)],
            flight=np.concatenate([self.flight] + [part.flight + flights + n for n, (part, _) in enumerate(parts)]),
            times=joined("times"), poses=joined("poses"), descriptors=joined("descriptors"),
            jpeg_data=joined("jpeg_data"), jpeg_offsets=offsets("jpeg_offsets", "jpeg_data"),
            residuals=joined("residuals"), scales=self.scales, analysis_size=self.analysis_size, origin=self.origin,
            keypoint_points=joined("keypoint_points") if keypoints else None,
            keypoint_descriptors=joined("keypoint_descriptors") if keypoints else None,
            keypoint_offsets=offsets("keypoint_offsets", "keypoint_points") if keypoints else None,
            keypoint_sizes=self.keypoint_sizes if keypoints else None,
            cnn_codes=joined("cnn_codes") if maps else None, cnn_ranges=joined("cnn_ranges") if maps else None,
            anchors=np.concatenate([np.full((count, flights), -1, np.int64)]
                                   + [np.asarray(anchors, np.int64) for _, anchors in parts]),
        )
        index.check()
        return index

    def per_flight(self, matches: np.ndarray) -> np.ndarray:
        """(N, R) int64: today's match on each reference flight (-1 none), from (N, K) global indices."""
        matches = np.asarray(matches, dtype=np.int64)
        result = np.full((len(matches), self.reference_flights), -1, dtype=np.int64)
        rows, columns = np.nonzero(matches >= 0)
        chosen = matches[rows, columns]
        flights = self.flight[chosen]
        keep = flights < self.reference_flights
        result[rows[keep], flights[keep]] = chosen[keep]
        return result

    def size_bytes(self) -> int:
        return int(sum(np.asarray(getattr(self, name)).nbytes for name in ARRAYS + OPTIONAL_ARRAYS
                       if getattr(self, name) is not None))

    def to_payload(self) -> tuple[dict, dict]:
        """(state tensors, extra values) for detection.detector_file."""
        state = {f"index.{name}": torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                 for name in ARRAYS + OPTIONAL_ARRAYS if getattr(self, name) is not None}
        extra = {
            "version": INDEX_VERSION,
            "reference_ids": list(self.reference_ids),
            "analysis_size": list(self.analysis_size),
            "origin": None if self.origin is None else list(self.origin),
            "keypoint_sizes": None if self.keypoint_sizes is None else [list(s) for s in self.keypoint_sizes],
        }
        return state, extra

    @classmethod
    def from_payload(cls, state: dict, extra: dict) -> ReferenceIndex:
        if not isinstance(extra, dict) or extra.get("version") not in READABLE_VERSIONS:
            found = extra.get("version") if isinstance(extra, dict) else None
            raise DetectorFileError(f"the reference index has version {found!r}, this Skerry reads versions "
                                    f"{', '.join(map(str, READABLE_VERSIONS))}; retrain the CHANGE detector")
        missing = [name for name in ARRAYS if f"index.{name}" not in state]
        if missing:
            raise DetectorFileError(f"the reference index lacks {', '.join(missing)}; retrain the CHANGE detector")
        arrays = {name: state[f"index.{name}"].numpy() for name in ARRAYS + OPTIONAL_ARRAYS
                  if f"index.{name}" in state}
        sizes = extra.get("keypoint_sizes")
        index = cls(
            keypoint_sizes=None if sizes is None else tuple(tuple(int(v) for v in s) for s in sizes),
            reference_ids=[str(v) for v in extra["reference_ids"]],
            analysis_size=tuple(int(v) for v in extra["analysis_size"]),
            origin=None if extra.get("origin") is None else tuple(float(v) for v in extra["origin"]),
            **arrays,
        )
        index.check()
        return index

    def check(self) -> None:
        """DetectorFileError when the arrays do not fit together."""
        count = len(self.flight)
        problems = []
        for name in ("times", "poses", "descriptors", "residuals"):
            if len(getattr(self, name)) != count:
                problems.append(f"{name} has {len(getattr(self, name))} rows for {count} frames")
        offsets = self.jpeg_offsets
        if len(offsets) != count + 1 or (count and (offsets[0] != 0 or offsets[-1] != len(self.jpeg_data)
                                                    or np.any(np.diff(offsets) <= 0))):
            problems.append("the JPEG offsets do not match the stored JPEG bytes")
        if count and (self.flight.min() < 0 or self.flight.max() >= len(self.reference_ids)):
            problems.append(f"frames name flights beyond the {len(self.reference_ids)} reference ids")
        keypoints = [self.keypoint_points, self.keypoint_descriptors, self.keypoint_offsets]
        if any(k is not None for k in keypoints):
            if any(k is None for k in keypoints) or self.keypoint_sizes is None:
                problems.append("the keypoints are incomplete")
            elif (len(self.keypoint_offsets) != count + 1 or len(self.keypoint_points) != len(self.keypoint_descriptors)
                  or (count and (self.keypoint_offsets[0] != 0 or self.keypoint_offsets[-1] != len(self.keypoint_points)
                                 or np.any(np.diff(self.keypoint_offsets) < 0)))):
                problems.append("the keypoint offsets do not match the stored keypoints")
        if (self.cnn_codes is None) != (self.cnn_ranges is None):
            problems.append("the CNN maps are incomplete")
        elif self.cnn_codes is not None and (len(self.cnn_codes) != count or self.cnn_ranges.shape != (
                count, self.cnn_codes.shape[1] if self.cnn_codes.ndim == 4 else -1, 2)):
            problems.append(f"CNN maps of shape {self.cnn_codes.shape} with ranges {self.cnn_ranges.shape} "
                            f"for {count} frames")
        if self.anchors is not None and (self.anchors.ndim != 2 or len(self.anchors) != count
                                         or self.anchors.shape[1] > len(self.reference_ids)
                                         or (count and self.anchors.max() >= count)):
            problems.append(f"anchors of shape {self.anchors.shape} for {count} frames of "
                            f"{len(self.reference_ids)} flights")
        if self.residuals.ndim != 4 or self.residuals.shape[1] != 2 or len(self.scales) != 2:
            problems.append(f"residuals of shape {self.residuals.shape} and scales {len(self.scales)}")
        if problems:
            raise DetectorFileError(f"the reference index does not fit together: {'; '.join(problems)}; "
                                    "retrain the CHANGE detector")
