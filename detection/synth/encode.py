"""Write frames to an H.264 MP4 with PyAV (libx264, yuv420p), single-threaded so the bytes repeat per seed.

RGB is converted to YUV 4:2:0 here, in numpy (BT.601, limited range: what the decoders assume for untagged
H.264), so that the conversion, like the encoder settings below, cannot depend on the machine's SIMD paths.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# One thread, and x264's plain C code paths: with its assembly, this libx264 gave different bytes for the same
# frames depending on where they lay in memory and what the process had encoded before (checked by hashing
# the packets of one clip encoded repeatedly); the C paths are repeatable and still fast at these frame sizes.
X264_OPTIONS = {"preset": "veryfast", "threads": "1", "x264-params": "threads=1:asm=0"}


class H264Writer:
    """Context manager: `with H264Writer(path, width=..., height=..., fps=...) as w: w.write(rgb_uint8)`."""

    def __init__(self, path: Path, *, width: int, height: int, fps: int, crf: int = 20, keyint: int | None = None,
                 x264_preset: str = "veryfast"):
        if width % 2 or height % 2:
            raise ValueError(f"H.264 in yuv420p needs an even frame size, got {width}x{height}")
        self.path, self.width, self.height, self.fps, self.crf = Path(path), width, height, fps, crf
        self.options = x264_options(crf=crf, keyint=keyint, x264_preset=x264_preset)
        self.index = 0

    def __enter__(self) -> H264Writer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream("libx264", rate=self.fps, options=self.options)
        self.stream.width, self.stream.height, self.stream.pix_fmt = self.width, self.height, "yuv420p"
        self.stream.codec_context.time_base = Fraction(1, self.fps)
        self.stream.codec_context.thread_count = 1
        return self

    def write(self, rgb: np.ndarray) -> None:
        """Append one (height, width, 3) uint8 RGB frame."""
        frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(rgb), format="yuv420p")
        frame.pts = self.index
        self.index += 1
        self.container.mux(self.stream.encode(frame))

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.container.mux(self.stream.encode(None))
        finally:
            self.container.close()


def x264_options(*, crf: int, keyint: int | None, x264_preset: str) -> dict[str, str]:
    """The encoder options: the repeatable settings above, a quality, and (like a drone) a fixed keyframe interval
    if `keyint` is given, no scene-cut keyframes in between."""
    options = X264_OPTIONS | {"crf": str(crf), "preset": x264_preset}
    if keyint is not None:
        options["x264-params"] += f":keyint={keyint}:min-keyint={keyint}:scenecut=0"
    return options


# BT.601 limited range, rows Y, Cb, Cr; applied to 0..255 RGB, plus the offsets 16, 128, 128.
_RGB_TO_YUV = np.array([
    [0.256788, 0.504129, 0.097906],
    [-0.148223, -0.290993, 0.439216],
    [0.439216, -0.367788, -0.071427],
], dtype=np.float64)


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB (H, W even) -> (H * 3 // 2, W) uint8 planar Y, then U and V at half resolution,
    the layout `av.VideoFrame.from_ndarray(..., format="yuv420p")` takes. Chroma is the mean of each 2x2 block."""
    height, width = rgb.shape[:2]
    values = rgb.astype(np.float64)
    luma = values @ _RGB_TO_YUV[0] + 16.0
    blocks = values.reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3))
    chroma = blocks @ _RGB_TO_YUV[1:].T + 128.0  # (H/2, W/2, 2)
    out = np.empty((height * 3 // 2, width), dtype=np.uint8)
    out[:height] = np.clip(np.rint(luma), 0, 255)
    quarter = height // 4  # each chroma plane is (H/2) x (W/2) = (H/4) rows of width W
    out[height : height + quarter] = np.clip(np.rint(chroma[..., 0]), 0, 255).reshape(quarter, width)
    out[height + quarter :] = np.clip(np.rint(chroma[..., 1]), 0, 255).reshape(quarter, width)
    return out
