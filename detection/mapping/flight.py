"""A flight's frames for its mosaic: sampled sparsely (neighbours must still overlap) and small (registration
works at a few hundred pixels, and the mosaic's resolution follows the frames').

At `fps` frames per second, at most `max_frames` in all (a longer flight is sampled more sparsely), at most
`max_width` pixels wide (the aspect kept, sizes even). Frames stream to `work_dir` and come back memory-mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from detection.types import ProgressFn, SampledFrames, no_progress
from detection.video.probe import probe
from detection.video.sampling import sample_frames


@dataclass(frozen=True)
class FlightSampling:
    fps: float = 1.0
    max_frames: int = 3600
    max_width: int = 640

    def __post_init__(self):
        if self.fps <= 0 or self.max_frames < 2 or self.max_width < 32:
            raise ValueError("mosaic sampling needs fps > 0, max_frames >= 2 and max_width >= 32, got "
                             f"{self.fps}, {self.max_frames}, {self.max_width}")


def mosaic_frame_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """(width, height) of a frame shrunk to at most `max_width` wide, aspect kept, both even."""
    if width <= max_width:
        return width - width % 2, height - height % 2
    scaled = round(height * max_width / width)
    return max_width - max_width % 2, max(2, scaled - scaled % 2)


def sample_flight(path: Path | str, work_dir: Path | str, *, sampling: FlightSampling = FlightSampling(),
                  progress: ProgressFn = no_progress) -> SampledFrames:
    """The frames of the video at `path` its mosaic is built from (see the module docstring)."""
    info = probe(path)
    fps = min(sampling.fps, sampling.max_frames / max(info.duration, 1e-6))
    size = mosaic_frame_size(info.width, info.height, sampling.max_width)
    return sample_frames(path, fps=fps, size=size, out_dir=work_dir, progress=progress)
