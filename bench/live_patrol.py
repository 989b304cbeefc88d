"""The `patrol` route of bench/live.py (`--route patrol`, see its docstring): the benchmark's flights and the
detectors trained on them, the onsets a live alert is due at, a drone-like re-encoding of a flight, and where the
batch pass first flags each onset (what the live path's latency is measured after)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from detection.video.sampling import sample_frames

ROOT = Path(__file__).resolve().parents[1]


PATROL_REFERENCES = ("day01", "day04", "day09", "day13")  # normal training flights: the reference flights
PATROL_CHECKS = ("day08", "day03")  # validation: a normal flight and one with objects (thresholds)
PATROL_FLIGHTS = ("day14", "day06")  # test flights: --flight publishes one (day 14 by default)


def patrol_setup(workdir: Path, threads: int, day: str):
    """The patrol flights (generated once), a CAE and a CHANGE detector trained on them (kept), the live
    flight, its labelled intervals and its telemetry."""
    from detection.datasets.manifest import read_manifest
    from detection.detector_file import load_detector
    from detection.telemetry import read_telemetry

    data = workdir / "patrol"
    manifest = data / "manifest.csv"
    if not manifest.exists():
        flights = ",".join(f"{d}/patrol.mp4" for d in (*PATROL_REFERENCES, *PATROL_CHECKS, *PATROL_FLIGHTS))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "detection", "generate", str(data), "--preset", "patrol", "--seed", "0",
                        "--flights", flights, "--jobs", "1"], check=True, cwd=ROOT)
        print(f"generated the patrol flights in {time.perf_counter() - started:.0f} s", flush=True)
    detectors = {}
    for kind, extra in (("cae", ["--epochs", "40"]), ("change", [])):
        saved = workdir / f"patrol-{kind}.pt"
        if not saved.exists():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "detection", "train", kind, str(manifest), "--out", str(saved),
                            "--threads", str(threads), "--seed", "0", *extra], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)
            print(f"trained the {kind} detector in {time.perf_counter() - started:.0f} s", flush=True)
        detectors[kind] = load_detector(saved)
    record = next(r for r in read_manifest(manifest) if r.video_id == f"{day}/patrol.mp4")
    return record.path, onsets(record.intervals), detectors["cae"], detectors["change"], read_telemetry(record.telemetry)


def onsets(intervals, bridge: float = 2.0) -> list[tuple[float, float]]:
    """The labelled intervals merged where they overlap or lie less than `bridge` seconds apart, as (start,
    end): each start is a moment the flight goes from nothing to see to something, which is when an alert is
    due (an object appearing while another is in view, or has just left it, is inside an alert already raised:
    alerts, like events, run on across short gaps, so it has no latency of its own)."""
    merged: list[list[float]] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1][1] + bridge:
            merged[-1][1] = max(merged[-1][1], interval.end)
        else:
            merged.append([interval.start, interval.end])
    return [(start, end) for start, end in merged]


def reencode(flight: Path, size: str, fps: int, workdir: Path) -> Path:
    """The flight at another size and rate, H.264 with a keyframe a second, temporal noise on every frame (so
    the repeated frames of a higher rate are new pictures to decode, as a real feed's are)."""
    width, height = size.split("x")
    out = workdir / f"{flight.parent.name}-{size}p{fps}.mp4"
    if not out.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(flight), "-vf",
                        f"scale={width}:{height},fps={fps},noise=alls=6:allf=t", "-c:v", "libx264", "-preset",
                        "veryfast", "-g", str(fps), "-pix_fmt", "yuv420p", "-an", str(out)], check=True)
    return out


def batch_flags(flight: Path, detectors: dict, windows, poses, size: int) -> dict[str, list[float | None]]:
    """Per detector, per onset window: the start of the first event the batch pass (the whole recording scored
    afterwards, persistence with the next frame known) raises in it, None when it raises none. The live alert
    can come no earlier than that frame: the time from it to the alert is what the live path adds."""
    flags = {}
    for name, detector in detectors.items():
        frame_size = None if name == "change" else (size, size)
        sampled = sample_frames(flight, fps=2, size=frame_size)
        options = {"poses": poses} if name == "change" and poses is not None else {}
        events = detector.score_frames(np.asarray(sampled.frames), sampled.times, **options).events
        flags[name] = [min((e.start for e in events if start - 1.0 <= e.start <= end), default=None)
                       for start, end in windows]
    return flags


def live_path_latencies(received, windows, first_wall: float, detector: str, flagged) -> list[float]:
    """Seconds from each onset's first batch-flagged frame (`flagged`, per window) to the detector's first live
    alert in that window, for the onsets both raised."""
    latencies = []
    for (start, end), first in zip(windows, flagged):
        arrivals = [at for alert, at in received
                    if alert.get("detector") == detector and start - 1.0 <= alert["start"] <= end]
        if first is not None and arrivals:
            latencies.append(min(arrivals) - (first_wall + first))
    return latencies


def looped(windows, poses, period: float, loops: int):
    """The onset windows and poses of `loops` back-to-back replays of a flight `period` seconds long (what
    FFmpeg's `-stream_loop` publishes: each replay's timestamps continue from the last one's end), so CHANGE
    matches every replay by telemetry and each replay's onsets are due their own alerts."""
    from dataclasses import fields

    from detection.telemetry.poses import PoseTable

    windows = [(start + k * period, end + k * period) for k in range(loops) for start, end in windows]
    if poses is None or loops <= 1:
        return windows, poses
    keep = poses.time < period  # a pose at or past the flight's end would collide with the next replay's first
    columns = {f.name: np.concatenate([getattr(poses, f.name)[keep] for _ in range(loops)]) for f in fields(poses)}
    columns["time"] = np.concatenate([poses.time[keep] + k * period for k in range(loops)])
    return windows, PoseTable(**columns)
