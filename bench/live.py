"""Live benchmark: FFmpeg publishes a flight in real time, Skerry's live reader records, samples and scores it.

    .venv/bin/python bench/live.py [--seconds 90] [--width 1280 --height 720 --fps 30] [--workdir var/bench/live]

Generates (once, kept in --workdir) a panned-terrain flight at the asked size with an orange raft that appears
every 15 s from 10 s on for 4 s, and a raft-free flight to train a small CAE on (kept too). `ffmpeg -re -c copy
-f mpegts` publishes the flight to a TCP endpoint the reader listens on; the loop of workers/live.py (reader
thread, segment recorder, frame-by-frame CAE, alerts) runs here and publishes each alert on Redis pub/sub (the
channel the live page's and the API's event streams relay) when a Redis server answers on --redis.

Printed: the real-time factor of each part measured alone on the same flight (decode, sample, record, CAE
scoring at the analysis rate, the browser proxy re-encoded and remuxed, and the whole ingest of the recording
with each proxy: ingest remuxes a browser-playable H.264 recording, and re-encodes anything else); the lag
of the newest scored frame behind the stream in 10 s windows; CPU and peak memory; the recording's duration
against the published one; and last, the alert latency from each raft's first visible instant (counted from
the publisher's start, so FFmpeg's start-up counts against Skerry) to the alert received on the feed:
`alert latency p50 X s p95 Y s`. The HTTP hop of the event-stream response is not in it.
CHANGE: a CHANGE detector is built with the raft-free flight as its reference flight (kept in --workdir), and
its live comparison of the flight's frames at the stream's size is timed (detection.live.change): it compares
the newest frame whenever the previous comparison ends, so its real-time factor at 2 fps says what share of
the sampled frames it compares; its alerts are not in the latency above (the CAE's are).
"""

# ruff: noqa: E402  (imports follow the sys.path fix below)
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from fractions import Fraction

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detection.atomic_files import replacing
from detection.live.reader import LiveReader, LiveSettings
from detection.live.recorder import SegmentRecorder, assemble
from detection.live.scoring import LiveScorer
from detection.video.ingest import ingest_video
from detection.video.proxy import REMUXED, make_proxy, remux_proxy
from detection.video.sampling import sample_frames

RAFT_EVERY, RAFT_FIRST, RAFT_SECONDS = 15.0, 10.0, 4.0
SIZE = 124


def raft_instants(seconds: float) -> list[float]:
    return [float(t) for t in np.arange(RAFT_FIRST, seconds - RAFT_SECONDS, RAFT_EVERY)]


def generate_flight(path: Path, *, seconds: float, width: int, height: int, fps: int, rafts: bool, seed: int) -> Path:
    """A smooth random terrain panned diagonally; an orange raft (width/16 x height/16) while a raft is due."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(40, 200, size=(height // 24 + 8, width // 24 + 8, 3)).astype(np.float32)
    import cv2

    terrain = cv2.resize(coarse, (coarse.shape[1] * 24, coarse.shape[0] * 24), interpolation=cv2.INTER_CUBIC)
    terrain = cv2.GaussianBlur(terrain, (0, 0), 6).clip(0, 255).astype(np.uint8)
    raft_w, raft_h = width // 16, height // 16
    due = [(t, t + RAFT_SECONDS) for t in raft_instants(seconds)] if rafts else []
    started = time.perf_counter()
    with replacing(path, suffix=".mp4") as temporary:
        with av.open(str(temporary), "w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.gop_size = fps  # a keyframe a second, as drones send
            stream.codec_context.time_base = Fraction(1, fps)
            stream.options = {"preset": "veryfast", "tune": "zerolatency"}
            for index in range(int(seconds * fps)):
                now = index / fps
                x, y = int(now * 4) % (terrain.shape[1] - width), int(now * 2) % (terrain.shape[0] - height)
                image = terrain[y : y + height, x : x + width].copy()
                if any(start <= now < end for start, end in due):
                    top, left = height // 2 - raft_h // 2, width // 3
                    image[top : top + raft_h, left : left + raft_w] = (255, 120, 0)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    print(f"generated {path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def train_detector(normal: Path, workdir: Path):
    from detection.cae.config import make_config
    from detection.cae.scoring import CAEDetector
    from detection.cae.train import train_cae
    from detection.detector_file import load_detector

    saved = workdir / "cae.pt"
    if saved.exists():
        return load_detector(saved)
    frames = np.asarray(sample_frames(normal, fps=4, size=(SIZE, SIZE)).frames)
    config = make_config({"config": "default", "epochs": 40, "threshold_method": "quantile", "threshold_quantile": 0.999})
    split = len(frames) * 4 // 5
    detector, _ = train_cae([frames[:split]], [frames[split:]], [np.zeros(len(frames) - split, bool)], config=config,
                            seed=0)
    assert isinstance(detector, CAEDetector)
    detector.save(saved)
    return detector


def train_change(normal: Path, workdir: Path, seconds: float = 20.0):
    """A CHANGE detector whose reference flight is the first `seconds` of the raft-free flight (kept)."""
    from detection.change.train import train_from_items
    from detection.detector_file import load_detector
    from detection.registry import TrainItem
    from detection.types import SampledFrames, VideoRecord

    saved = workdir / "change.pt"
    if saved.exists():
        return load_detector(saved)
    sampled = sample_frames(normal, fps=2, size=None, end=seconds)
    frames = SampledFrames(np.asarray(sampled.frames), sampled.times)
    reference = TrainItem(frames, VideoRecord(normal, label="normal", split="train", video_id="normal"))
    check = TrainItem(frames, VideoRecord(normal, label="normal", split="val", video_id="normal-val"))
    detector, _ = train_from_items([reference], [check], seed=0)
    detector.save(saved)
    return detector


def change_seconds(flight: Path, detector, count: int = 12) -> tuple[float | None, dict[int, int]]:
    """Mean seconds of one live CHANGE comparison that aligned and compared (None: none did) over the flight's
    first `count` frames at 2 fps, and how many frames ended in each status (0 compared, 1 no reference,
    2 alignment failed: both of those end early, so they are not in the mean)."""
    from detection.live.change import LiveChangeScorer

    frames = sample_frames(flight, fps=2, size=None, end=count / 2)
    scorer = LiveChangeScorer(detector)
    results = [scorer.score(t, f) for t, f in zip(frames.times, frames.frames)]
    compared = [r.seconds for r in results if r.status == 0]
    statuses = {status: sum(1 for r in results if r.status == status) for status in (0, 1, 2)}
    return (float(np.mean(compared)) if compared else None), statuses


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def part_factors(flight: Path, detector, seconds: float, workdir: Path) -> dict[str, float]:
    """Real-time factor (stream seconds per wall second) of each part alone on the flight."""
    def decode():
        with av.open(str(flight)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for _ in container.decode(stream):
                pass

    def record():
        folder = Path(tempfile.mkdtemp(dir=workdir))
        recorder = SegmentRecorder(folder)
        with av.open(str(flight)) as container:
            stream = container.streams.video[0]
            recorder.begin(stream)
            for packet in container.demux(stream):
                if packet.dts is not None:
                    recorder.write(packet, float(packet.pts * packet.time_base), float(packet.dts * packet.time_base),
                                   float((packet.duration or 0) * packet.time_base))
        recorder.end()
        shutil.rmtree(folder)

    frames = np.asarray(sample_frames(flight, fps=2, size=(SIZE, SIZE)).frames[:60])
    scorer = LiveScorer(detector)
    per_frame = timed(lambda: [scorer.score(i / 2, f) for i, f in enumerate(frames)]) / len(frames)
    proxy = workdir / "proxy.mp4"
    return {
        "decode": seconds / timed(decode),
        "sample (decode + 2 fps at 124x124)": seconds / timed(lambda: sample_frames(flight, fps=2, size=(SIZE, SIZE))),
        "record (remux to MPEG-TS segments)": seconds / timed(record),
        "CAE scoring at 2 fps": 0.5 / per_frame,
        "proxy re-encoded (a feed browsers cannot play)": seconds / timed(lambda: make_proxy(flight, proxy)),
        "proxy remuxed (ingest's path for an H.264 feed)": seconds / timed(lambda: remux_proxy(flight, proxy)),
    }


def ingest_factors(recording: Path, seconds: float, workdir: Path) -> dict[str, float]:
    """Real-time factor of the whole ingest of a recording (decode, sample, thumbnails, checksum, proxy) with
    the proxy re-encoded and remuxed; fails loudly if ingest did not take the path it is timed for."""
    factors = {}
    for remux, name in ((False, "ingest, proxy re-encoded"), (True, "ingest, proxy remuxed (what it does now)")):
        out = Path(tempfile.mkdtemp(dir=workdir))
        result = ingest_video(recording, out, fps=2, size=(SIZE, SIZE), remux=remux)
        assert (result.proxy_method == REMUXED) == remux, result.proxy_method
        factors[name] = seconds / result.seconds
        shutil.rmtree(out)
    return factors


class Feed:
    """Alerts over Redis pub/sub when a server answers (what the event streams relay), else in-process."""

    def __init__(self, url: str):
        self.received: list[tuple[dict, float]] = []
        self.client = None
        try:
            import redis

            self.client = redis.Redis.from_url(url)
            self.client.ping()
        except Exception:  # noqa: BLE001 - no Redis here: measure without the pub/sub hop
            self.client = None
            return
        self.channel = f"skerry-bench-live-{time.time_ns()}"
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(self.channel)
        self.done = threading.Event()
        threading.Thread(target=self._listen, daemon=True).start()

    @property
    def kind(self) -> str:
        return "Redis pub/sub" if self.client else "in-process (no Redis answered)"

    def _listen(self):
        while not self.done.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message:
                self.received.append((json.loads(message["data"]), time.time()))

    def publish(self, alert: dict) -> None:
        if self.client:
            self.client.publish(self.channel, json.dumps(alert))
        else:
            self.received.append((alert, time.time()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_live(flight: Path, detector, seconds: float, workdir: Path, feed: Feed) -> dict:
    folder = workdir / "recording"
    shutil.rmtree(folder, ignore_errors=True)
    port = free_port()
    settings = LiveSettings(fps=2, size=(SIZE, SIZE), display_width=640, listen=True, end_after=3.0)
    reader = LiveReader(f"tcp://127.0.0.1:{port}", settings, recorder=SegmentRecorder(folder, segment_seconds=10))
    reader.start()
    time.sleep(0.5)
    publisher = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-i", str(flight), "-c", "copy", "-f", "mpegts",
                                  f"tcp://127.0.0.1:{port}"])
    # Stream time 0 is when FFmpeg starts pacing, a moment after it starts: counting from its start puts the
    # instants early, so latencies and lags are over-, never under-estimated (by FFmpeg's start-up).
    first_wall = time.time()
    scorer = LiveScorer(detector)
    lags, cpu0, wall0 = [], time.process_time(), time.perf_counter()
    while not reader.done:
        frame = reader.next_frame(0.5)
        if frame is None:
            continue
        result = scorer.score(frame.time, frame.image)
        lags.append((frame.time, time.time() - (first_wall + frame.time), reader.lag))
        if result.opened:
            feed.publish({"type": "alert", "start": result.changed.start, "sent_at": time.time()})
    publisher.wait(30)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    recorded = assemble(folder, workdir / "recording.mp4")
    return {"first_wall": first_wall, "lags": lags, "cpu": cpu, "wall": wall, "recorded": recorded,
            "dropped": reader.dropped, "skipped": reader.skipped, "error": reader.error, "scored": len(scorer.times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "live")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{args.width}x{args.height}p{args.fps}"
    flight = generate_flight(args.workdir / f"flight-{tag}-{args.seconds:g}s.mp4", seconds=args.seconds,
                             width=args.width, height=args.height, fps=args.fps, rafts=True, seed=1)
    normal = generate_flight(args.workdir / f"normal-{tag}.mp4", seconds=40, width=args.width, height=args.height,
                             fps=args.fps, rafts=False, seed=1)
    detector = train_detector(normal, args.workdir)
    print(f"flight {flight.name}: {args.seconds:g} s at {tag}; CAE threshold {detector.threshold:.3f}")
    feed = Feed(args.redis)
    live = run_live(flight, detector, args.seconds, args.workdir, feed)
    if live["error"]:
        print(f"reader error: {live['error']}")
    print(f"live run: {live['scored']} frames scored, {live['dropped']} sampled frames dropped, "
          f"{live['skipped']} frames skipped by the decoder to keep up")
    print(f"CPU {live['cpu'] / live['wall']:.2f} cores on average (this process: reader, recorder, scorer; "
          f"FFmpeg's publisher apart), peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("lag of the newest scored frame behind the stream (10 s windows: max s; decoder lag max s):")
    for start in np.arange(0, args.seconds, 10):
        window = [(lag, dec) for t, lag, dec in live["lags"] if start <= t < start + 10]
        if window:
            print(f"  {start:5.0f}-{start + 10:<5.0f} {max(w[0] for w in window):6.2f} {max(w[1] for w in window):6.2f}")
    print(f"recording {live['recorded']:.2f} s of the published {args.seconds:.2f} s")
    print("real-time factor of each part alone (x real time; above 1 keeps up):")
    factors = part_factors(flight, detector, args.seconds, args.workdir)
    factors.update(ingest_factors(args.workdir / "recording.mp4", live["recorded"], args.workdir))
    for name, factor in factors.items():
        print(f"  {name:48s} {factor:6.2f}x")
    per_comparison, statuses = change_seconds(flight, train_change(args.workdir / f"normal-{tag}.mp4", args.workdir))
    counted = f"frames compared / no reference / not aligned: {statuses[0]} / {statuses[1]} / {statuses[2]}"
    if per_comparison is None:
        print(f"  {'CHANGE live comparison at 2 fps':48s} not measured: no frame aligned ({counted})")
    else:
        print(f"  {'CHANGE live comparison at 2 fps':48s} {0.5 / per_comparison:6.2f}x ({per_comparison:.2f} s a "
              f"frame: it compares {min(1.0, 0.5 / per_comparison):.0%} of the sampled frames; {counted})")
    feed.done.set() if feed.client else None
    latencies = []
    for instant in raft_instants(args.seconds):
        arrivals = [at for alert, at in feed.received if instant - 1.0 <= alert["start"] <= instant + RAFT_SECONDS]
        if arrivals:
            latencies.append(min(arrivals) - (live["first_wall"] + instant))
    missed = len(raft_instants(args.seconds)) - len(latencies)
    print(f"alerts through {feed.kind}: {len(latencies)} of {len(raft_instants(args.seconds))} rafts"
          f"{f', {missed} missed' if missed else ''}; false alerts "
          f"{sum(1 for a, _ in feed.received if not any(i - 1.0 <= a['start'] <= i + RAFT_SECONDS for i in raft_instants(args.seconds)))}")
    if latencies:
        print(f"alert latency p50 {np.percentile(latencies, 50):.2f} s p95 {np.percentile(latencies, 95):.2f} s")
    else:
        print("alert latency p50 - s p95 - s (no alert)")


if __name__ == "__main__":
    main()
