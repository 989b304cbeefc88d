"""The reference index: everything scoring needs from the reference flights, so they are never decoded again.

Per reference frame (M in all, flights concatenated): its flight, time, pose (east, north, altitude metres
about `origin`; NaN without telemetry), global descriptor (timeline.frame_descriptors), the frame itself as
JPEG at the analysis size, and its leave-one-out residual maps (2, gh, gw) float16: the colour and CNN
distances left when the frame is compared with the other reference flights, i.e. what varies normally at that
place. Plus the two branches' global scales.

In a detector file (detection.detector_file) the arrays are tensors in `state` under "index.*" and the rest
plain values in `extra["index"]`; `from_payload` checks that they fit together and raises DetectorFileError
naming what does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from detection.change.features import decode_jpeg
from detection.errors import DetectorFileError

INDEX_VERSION = 1
ARRAYS = ("flight", "times", "poses", "descriptors", "jpeg_data", "jpeg_offsets", "residuals", "scales")


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

    def flight_indices(self, flight: int) -> np.ndarray:
        return np.flatnonzero(self.flight == flight)

    @property
    def has_poses(self) -> bool:
        return len(self) > 0 and bool(np.all(np.isfinite(self.poses[:, :2])))

    def size_bytes(self) -> int:
        return int(sum(np.asarray(getattr(self, name)).nbytes for name in ARRAYS))

    def to_payload(self) -> tuple[dict, dict]:
        """(state tensors, extra values) for detection.detector_file."""
        state = {f"index.{name}": torch.from_numpy(np.ascontiguousarray(getattr(self, name))) for name in ARRAYS}
        extra = {
            "version": INDEX_VERSION,
            "reference_ids": list(self.reference_ids),
            "analysis_size": list(self.analysis_size),
            "origin": None if self.origin is None else list(self.origin),
        }
        return state, extra

    @classmethod
    def from_payload(cls, state: dict, extra: dict) -> ReferenceIndex:
        if not isinstance(extra, dict) or extra.get("version") != INDEX_VERSION:
            found = extra.get("version") if isinstance(extra, dict) else None
            raise DetectorFileError(f"the reference index has version {found!r}, this Skerry reads version "
                                    f"{INDEX_VERSION}; retrain the CHANGE detector")
        missing = [name for name in ARRAYS if f"index.{name}" not in state]
        if missing:
            raise DetectorFileError(f"the reference index lacks {', '.join(missing)}; retrain the CHANGE detector")
        arrays = {name: state[f"index.{name}"].numpy() for name in ARRAYS}
        index = cls(
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
        if self.residuals.ndim != 4 or self.residuals.shape[1] != 2 or len(self.scales) != 2:
            problems.append(f"residuals of shape {self.residuals.shape} and scales {len(self.scales)}")
        if problems:
            raise DetectorFileError(f"the reference index does not fit together: {'; '.join(problems)}; "
                                    "retrain the CHANGE detector")
