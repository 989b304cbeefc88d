"""Write frames to an H.264 MP4 with PyAV (libx264, yuv420p), single-threaded so the bytes repeat per seed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


class H264Writer:
    """Context manager: `with H264Writer(path, width=..., height=..., fps=...) as w: w.write(rgb_uint8)`."""

    def __init__(self, path: Path, *, width: int, height: int, fps: int, crf: int = 20):
        if width % 2 or height % 2:
            raise ValueError(f"H.264 in yuv420p needs an even frame size, got {width}x{height}")
        self.path, self.width, self.height, self.fps, self.crf = Path(path), width, height, fps, crf
        self.index = 0

    def __enter__(self) -> H264Writer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream(
            "libx264", rate=self.fps, options={"crf": str(self.crf), "preset": "veryfast"}
        )
        self.stream.width, self.stream.height, self.stream.pix_fmt = self.width, self.height, "yuv420p"
        self.stream.codec_context.time_base = Fraction(1, self.fps)
        self.stream.codec_context.thread_count = 1
        return self

    def write(self, rgb: np.ndarray) -> None:
        """Append one (height, width, 3) uint8 RGB frame."""
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = self.index
        self.index += 1
        self.container.mux(self.stream.encode(frame))

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.container.mux(self.stream.encode(None))
        finally:
            self.container.close()
