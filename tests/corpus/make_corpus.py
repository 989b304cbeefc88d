"""Writes the bad-input corpus: every kind of broken or odd file a user might upload, made by script.

Run `python -m tests.corpus.make_corpus OUTDIR`; tests call `make_corpus(tmp_path)`. Each entry says what a
correct system does with it: `error` (a clear VideoError naming the problem) or `ok` (it works).
"""

from __future__ import annotations

import io
import struct
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from tests.support.videos import make_video, scene_frame


@dataclass(frozen=True)
class CorpusEntry:
    name: str
    path: Path
    expect: str  # "error" or "ok"
    why: str


def _truncated(out: Path, *, faststart: bool) -> Path:
    """Cut at 60%: with the index first the start stays decodable; with it last nothing can be read."""
    source = make_video(out / "source_for_truncation.mp4", seconds=3, fps=10, width=96, height=64,
                        faststart=faststart)
    data = source.read_bytes()
    path = out / ("truncated_faststart.mp4" if faststart else "truncated_index_at_end.mp4")
    path.write_bytes(data[: len(data) * 6 // 10])
    source.unlink()
    return path


def _damaged_moov(out: Path) -> Path:
    source = make_video(out / "source_for_moov.mp4", seconds=2, fps=10, width=64, height=48)
    data = bytearray(source.read_bytes())
    source.unlink()
    index = data.find(b"moov")
    assert index > 0
    # Keep the box header but scramble its contents: sizes of the inner boxes become nonsense.
    rng = np.random.default_rng(1)
    start, end = index + 4, min(len(data), index + 4 + 400)
    data[start:end] = rng.integers(0, 256, end - start, dtype=np.uint8).tobytes()
    path = out / "damaged_moov.mp4"
    path.write_bytes(bytes(data))
    return path


def _audio_only(out: Path) -> Path:
    path = out / "audio_only.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = (np.sin(np.arange(16000) / 10.0) * 0.3).astype(np.float32)[None, :]
        for start in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(samples[:, start : start + 1024], format="fltp", layout="mono")
            frame.sample_rate = 16000
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _image_as_mp4(out: Path) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(scene_frame(0, 64, 48)).save(buffer, format="PNG")
    path = out / "image_renamed.mp4"
    path.write_bytes(buffer.getvalue())
    return path


def _odd_size(out: Path, width: int, height: int) -> Path:
    path = out / f"odd_{width}x{height}.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p"
        for index in range(5):
            image = np.full((height, width, 3), (index * 40) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _variable_frame_rate(out: Path) -> Path:
    path = out / "variable_frame_rate.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for index in range(40):
            frame = av.VideoFrame.from_ndarray(scene_frame(index, 64, 48), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            container.mux(stream.encode(frame))
            pts += 33 if index % 3 else 120  # mostly 30 fps with gaps
        container.mux(stream.encode(None))
    return path


def _hostile_name(out: Path) -> Path:
    name = ("<script>alert(1)</script>" + "a" * 150 + " ..\\..\\etc passwd.mp4").replace("/", "_")
    return make_video(out / name, seconds=1, fps=5)


def _bad_manifest(out: Path) -> Path:
    good = make_video(out / "manifest_videos" / "good.mp4", seconds=2, fps=5)
    folder = good.parent
    rows = [
        "video,label,split,intervals,classes",
        "good.mp4,normal,train,,",
        "missing.mp4,normal,train,,",  # missing file
        "good.mp4,weird,train,,",  # unknown label (and duplicate row)
        "good.mp4,anomalous,nosuch,,",  # unknown split
        "good.mp4,anomalous,test,5-1,boat",  # reversed interval
        "good.mp4,anomalous,test,0.5-99,boat",  # outside the video
        "good.mp4,normal,test,0.1-0.5,",  # intervals on a normal video
        "good.mp4,anomalous,test,0.1-0.5;0.6-0.9,boat",  # classes count mismatch
        "../outside.mp4,normal,train,,",  # escapes the folder
        "good.mp4,anomalous,test,abc,",  # bad interval syntax
    ]
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def make_corpus(out: Path) -> list[CorpusEntry]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    zero = out / "zero_bytes.mp4"
    zero.write_bytes(b"")
    random_bytes = out / "random_bytes.mp4"
    random_bytes.write_bytes(np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    fake_header = out / "fake_ftyp.mp4"
    fake_header.write_bytes(struct.pack(">I", 24) + b"ftypisom" + b"\0" * 12 + b"garbage" * 100)
    return [
        CorpusEntry("truncated_faststart", _truncated(out, faststart=True), "ok",
                    "decodable frames kept, with a warning saying where decoding stopped"),
        CorpusEntry("truncated_index_at_end", _truncated(out, faststart=False), "error",
                    "cut before its index (moov): nothing can be located"),
        CorpusEntry("damaged_moov", _damaged_moov(out), "error", "the index box is corrupt"),
        CorpusEntry("random_bytes", random_bytes, "error", "not a video"),
        CorpusEntry("fake_ftyp", fake_header, "error", "an MP4 header with nothing behind it"),
        CorpusEntry("image_renamed", _image_as_mp4(out), "error", "a still image is not a video"),
        CorpusEntry("audio_only", _audio_only(out), "error", "no video stream"),
        CorpusEntry("zero_bytes", zero, "error", "empty file"),
        CorpusEntry("one_frame", make_video(out / "one_frame.mp4", seconds=0.1, fps=10), "ok", "one frame"),
        CorpusEntry("rotated", make_video(out / "rotated.mp4", seconds=1, fps=10, width=64, height=32,
                                          rotation=90), "ok", "rotation metadata honoured"),
        CorpusEntry("variable_frame_rate", _variable_frame_rate(out), "ok", "sampled by timestamp"),
        CorpusEntry("odd_3x5", _odd_size(out, 3, 5), "ok", "tiny odd size"),
        CorpusEntry("odd_4097x3", _odd_size(out, 4097, 3), "ok", "very wide, odd size"),
        CorpusEntry("hevc", make_video(out / "hevc.mp4", seconds=1, fps=10, codec="libx265"), "ok", "HEVC"),
        CorpusEntry("hostile_name", _hostile_name(out), "ok", "HTML and separators in the name"),
        CorpusEntry("bad_manifest", _bad_manifest(out), "error", "a manifest with every kind of error"),
    ]


if __name__ == "__main__":
    for entry in make_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "var/corpus")):
        print(f"{entry.expect:5} {entry.name:20} {entry.path}")
