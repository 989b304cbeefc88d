"""Ingest benchmark: sample_frames against the ffmpeg command line, keyframe mode, peak memory, real-time factor.

    .venv/bin/python bench/ingest.py [--workdir var/bench/ingest] [--repeats 2] [--long-seconds 600]

Generates its clips once (kept in --workdir): a 60 s 1080p30 H.264 clip (libx264 preset fast, a keyframe every
15 frames) of a large procedural terrain texture panned along a curved path, with moving objects and per-frame
sensor noise; and 60 s / 600 s clips at 320x180 15 fps with the same content for the memory comparison.
Timings alternate ours and ffmpeg's and report the best of --repeats (the machine is shared).
"""

# ruff: noqa: E402  (imports follow the sys.path fix below)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ is first on sys.path, and bench/queue.py would shadow the standard library's queue.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import resource
import shutil
import subprocess
import time
from fractions import Fraction

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detection.atomic_files import replacing
from detection.video.ingest import ingest_video
from detection.video.probe import probe
from detection.video.sampling import sample_frames

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


def fractal_plane(height: int, width: int, rng: np.random.Generator, octaves: int = 6) -> np.ndarray:
    """Multi-octave value noise in 0..1: coarse fields (fields, forest) plus fine detail (texture)."""
    total = np.zeros((height, width), np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        cells = 4 * 2**octave
        grid = rng.random((max(2, height * cells // width), cells)).astype(np.float32)
        layer = np.asarray(Image.fromarray(grid, mode="F").resize((width, height), Image.BICUBIC))
        weight = 0.55**octave
        total += weight * layer
        weight_sum += weight
    total /= weight_sum
    return (total - total.min()) / (total.max() - total.min() + 1e-6)


def terrain_yuv(height: int, width: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A large terrain-like texture as yuv420p planes (Y in 16..229 so added noise cannot overflow)."""
    rng = np.random.default_rng(seed)
    luma = (16 + 213 * fractal_plane(height, width, rng, octaves=8)).astype(np.uint8)
    chroma_u = (110 + 30 * fractal_plane(height // 2, width // 2, rng, octaves=4)).astype(np.uint8)
    chroma_v = (118 + 26 * fractal_plane(height // 2, width // 2, rng, octaves=4)).astype(np.uint8)
    return luma, chroma_u, chroma_v


def generate_clip(
    path: Path, *, seconds: float, width: int, height: int, fps: int, preset: str, gop: int
) -> Path:
    """Write the panned-terrain clip (see the module docstring) with PyAV/libx264."""
    margin_x, margin_y = width // 3 // 2 * 2, height // 3 // 2 * 2
    luma, chroma_u, chroma_v = terrain_yuv(height + 2 * margin_y, width + 2 * margin_x)
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 7, size=(8, height, width), dtype=np.uint8)  # sensor noise, 8 patterns in turn
    objects = [
        (rng.uniform(0, width), rng.uniform(0, height), rng.uniform(-6, 6), rng.uniform(-4, 4))
        for _ in range(6)
    ]
    side = max(8, height // 40) // 2 * 2
    with replacing(path, suffix=".mp4") as temporary:  # PyAV picks the container by the extension
        with av.open(str(temporary), "w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.gop_size = gop
            stream.codec_context.time_base = Fraction(1, fps)
            stream.options = {"preset": preset}
            for index in range(int(seconds * fps)):
                phase = index / fps
                x = int(margin_x * (1 + np.sin(phase * 0.21) * np.cos(phase * 0.05))) // 2 * 2
                y = int(margin_y * (1 + np.sin(phase * 0.13 + 1.0))) // 2 * 2
                plane_y = luma[y : y + height, x : x + width] + noise[index % 8]
                for ox, oy, vx, vy in objects:
                    px, py = int(ox + vx * index) % (width - side), int(oy + vy * index) % (height - side)
                    plane_y[py : py + side, px : px + side] = 225
                # yuv420p as PyAV wants it: Y rows, then the U and V planes each packed into rows of `width`
                chroma = [
                    np.ascontiguousarray(plane[y // 2 : (y + height) // 2, x // 2 : (x + width) // 2])
                    for plane in (chroma_u, chroma_v)
                ]
                planes = [plane_y] + [plane.reshape(-1, width) for plane in chroma]
                frame = av.VideoFrame.from_ndarray(np.concatenate(planes), format="yuv420p")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    return path


def clip(workdir: Path, name: str, **spec) -> Path:
    """The clip `name` in workdir, generated on first use (timed)."""
    path = workdir / f"{name}.mp4"
    if not path.exists():
        started = time.perf_counter()
        generate_clip(path, **spec)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def run_ffmpeg(path: Path, fps: float, size: int) -> int:
    """The command line the issue compares against; returns the number of frames it wrote."""
    command = [FFMPEG, "-v", "error", "-i", str(path), "-vf", f"fps={fps:g},scale={size}:{size}"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    result = subprocess.run(command, capture_output=True, check=True)
    return len(result.stdout) // (size * size * 3)


def run_ours(path: Path, fps: float, size: int, keyframes) -> int:
    return len(sample_frames(path, fps=fps, size=(size, size), keyframes=keyframes).times)


def run_ffmpeg_decode_only(path: Path) -> int:
    subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
    return 0


def run_pyav_decode_only(path: Path) -> int:
    """PyAV's decoder alone (frame threading, nothing converted): what our sampling cannot beat."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type, stream.codec_context.thread_count = "AUTO", 0
        return sum(1 for _ in container.decode(stream))


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(run) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process's threads and of waited-for children, run's result).

    On a shared, oversubscribed machine wall time mostly measures the neighbours; CPU time measures the work.
    """
    cpu, started = _cpu_seconds(), time.perf_counter()
    count = run()
    return time.perf_counter() - started, _cpu_seconds() - cpu, count


def child_ingest(video: str, out_dir: str) -> None:
    """Run in a fresh process: ingest, then report the wall time and this process's peak RSS as JSON."""
    result = ingest_video(video, out_dir)
    # ru_maxrss survives fork+exec on Linux (the child starts as a copy of this large parent, and Python
    # spawns with vfork), so it reports the parent's peak; VmHWM is the peak RSS of the child's own memory.
    status = Path("/proc/self/status").read_text()
    hwm_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    report = {
        "seconds": result.seconds,
        "rtf": result.realtime_factor,
        "frames": result.frame_count,
        "duration": result.info.duration,
        "peak_rss_mib": hwm_kib / 1024,
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_seconds": _cpu_seconds(),
    }
    print(json.dumps(report))


def ingest_in_subprocess(video: Path, out_dir: Path) -> dict:
    shutil.rmtree(out_dir, ignore_errors=True)
    command = [sys.executable, __file__, "--child-ingest", str(video), str(out_dir)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "ingest")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 1080p clip")
    parser.add_argument("--long-seconds", type=float, default=600.0, help="length of the long memory clip")
    parser.add_argument("--child-ingest", nargs=2, metavar=("VIDEO", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ingest:
        return child_ingest(*args.child_ingest)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; PyAV {av.__version__}; "
        f"{subprocess.run([FFMPEG, '-version'], capture_output=True, text=True).stdout.split(chr(10))[0]}"
    )

    hd = clip(
        args.workdir,
        f"hd_{args.seconds:g}s",
        seconds=args.seconds,
        width=1920,
        height=1080,
        fps=30,
        preset="fast",
        gop=15,
    )
    info = probe(hd)
    print(
        f"clip: {info.width}x{info.height} {info.fps:g} fps {info.duration:.1f} s {info.codec}, "
        f"{info.size_bytes / 1e6:.1f} MB ({info.bit_rate / 1e6:.1f} Mbit/s), keyframe every {info.keyframe_interval:.2f} s"
    )

    cases = {
        "ffmpeg": lambda: run_ffmpeg(hd, 2, 124),
        "ours": lambda: run_ours(hd, 2, 124, False),
        "keyframes": lambda: run_ours(hd, 2, 124, True),
        "ffmpeg_decode_only": lambda: run_ffmpeg_decode_only(hd),
        "pyav_decode_only": lambda: run_pyav_decode_only(hd),
    }
    walls, cpus, counts = {name: [] for name in cases}, {name: [] for name in cases}, {}
    for _ in range(args.repeats):
        for name, run in cases.items():  # alternate, so a busy spell hits every case alike
            wall, cpu, counts[name] = measured(run)
            walls[name].append(wall)
            cpus[name].append(cpu)
    wall, cpu = {n: min(v) for n, v in walls.items()}, {n: min(v) for n, v in cpus.items()}
    for name in cases:
        print(
            f"{name:18s} wall best {wall[name]:6.2f} s (runs {', '.join(f'{v:.2f}' for v in walls[name])})  "
            f"CPU best {cpu[name]:6.2f} s (runs {', '.join(f'{v:.2f}' for v in cpus[name])})  frames {counts[name]}"
        )
    for label, first, second, target in (
        ("ours/ffmpeg (2 fps, 124x124 RGB)", "ours", "ffmpeg", "target <= 1.1"),
        ("full decode/keyframe mode", "ours", "keyframes", "target >= 5"),
        (
            "decode only, PyAV/ffmpeg CLI",
            "pyav_decode_only",
            "ffmpeg_decode_only",
            "libavcodec build vs system",
        ),
    ):
        print(
            f"RATIO {label}: wall {wall[first] / wall[second]:.3f}, CPU {cpu[first] / cpu[second]:.3f} ({target})"
        )

    full = ingest_in_subprocess(hd, args.workdir / "out_hd")
    print(
        f"INGEST 1080p {info.duration:.0f} s with proxy+thumbnails: {full['seconds']:.1f} s, "
        f"real-time factor {full['rtf']:.2f}, CPU {full['cpu_seconds']:.1f} s "
        f"({info.duration / full['cpu_seconds']:.2f} video s per CPU s), peak RSS (VmHWM) {full['peak_rss_mib']:.0f} MiB"
    )

    memory = {}
    for seconds in (60.0, args.long_seconds):
        path = clip(
            args.workdir,
            f"sd_{seconds:g}s",
            seconds=seconds,
            width=320,
            height=180,
            fps=15,
            preset="veryfast",
            gop=30,
        )
        memory[seconds] = ingest_in_subprocess(path, args.workdir / f"out_sd_{seconds:g}")
        run = memory[seconds]
        print(
            f"INGEST 320x180 15 fps {seconds:.0f} s: {run['seconds']:.1f} s, rtf {run['rtf']:.1f}, "
            f"CPU {run['cpu_seconds']:.1f} s, "
            f"frames {run['frames']}, peak RSS (VmHWM) {run['peak_rss_mib']:.1f} MiB, "
            f"ru_maxrss {run['ru_maxrss_mib']:.1f} MiB (inherited from the parent, see child_ingest)"
        )
    short, long = memory[60.0]["peak_rss_mib"], memory[args.long_seconds]["peak_rss_mib"]
    print(f"RATIO peak RSS {args.long_seconds:.0f} s / 60 s: {long / short:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
