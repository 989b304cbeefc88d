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

`--route patrol` flies the `patrol` benchmark instead (issue 24's own setting): its generator writes four normal
training flights (the reference flights), two validation flights and two test flights (day 14: a boat, a
drone, debris, a person and a second boat appear along the route; day 6, `--flight day06`: a person already in
view at take-off, fire, smoke, a car, a vanished boat), all at 1280x720, 4 fps; a CAE and a CHANGE
detector are trained on them with `python -m detection train` (kept in --workdir), and FFmpeg publishes the
chosen test flight in real time. The live loop is workers/live.py's: the CAE scores every sampled frame and CHANGE
compares the newest one in its own thread (detection.live.change), both raising alerts. Latency is from each
onset (the flight's labelled intervals, from the generator's ground truth, merged where they overlap: the
moments it goes from nothing to see to something) to the first alert of either detector starting in that
stretch; each detector's own latencies are printed before the last line.
`--telemetry` gives CHANGE the flight's poses (its .SRT sidecar, as a live telemetry feed would) instead of
visual matching. `--feed-size 1920x1080 --feed-fps 30` re-encodes the flight to that size and rate before
publishing (temporal noise added so every frame is a new picture to decode, not a repeat); CHANGE still
compares at its own analysis size.
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

from bench.live_patrol import PATROL_FLIGHTS, batch_flags, live_path_latencies, looped, patrol_setup, reencode
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


def run_live(flight: Path, detector, seconds: float, workdir: Path, feed: Feed, change=None, poses=None,
             loops: int = 1) -> dict:
    """Publish `flight` in real time and run the live loop on it: the CAE on every sampled frame, and with a
    CHANGE detector `change`, its thread on the newest full-size frame (as workers/live.py does)."""
    from detection.live.change import ChangeThread, LiveChangeScorer

    folder = workdir / "recording"
    shutil.rmtree(folder, ignore_errors=True)
    port = free_port()
    full_width = change.index.analysis_size[0] if change is not None else None
    settings = LiveSettings(fps=2, size=(SIZE, SIZE), display_width=640, listen=True, end_after=3.0,
                            full_width=full_width)
    reader = LiveReader(f"tcp://127.0.0.1:{port}", settings, recorder=SegmentRecorder(folder, segment_seconds=10))
    thread = ChangeThread(LiveChangeScorer(change, poses=poses)) if change is not None else None
    statuses: dict[int, int] = {}
    if thread is not None:
        thread.start()  # it warms up first: the live mission is started before the drone takes off
    reader.start()
    time.sleep(0.5)
    while thread is not None and thread.warmed_in is None and thread.is_alive():
        time.sleep(0.05)
    publisher = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-stream_loop", str(loops - 1), "-i", str(flight),
                                  "-c", "copy", "-f", "mpegts", f"tcp://127.0.0.1:{port}"])
    # Stream time 0 is when FFmpeg starts pacing, a moment after it starts: counting from its start puts the
    # instants early, so latencies and lags are over-, never under-estimated (by FFmpeg's start-up).
    first_wall = time.time()
    scorer = LiveScorer(detector)
    lags, cpu0, wall0 = [], time.process_time(), time.perf_counter()

    comparisons = []

    def take_comparisons():
        for compared in thread.take() if thread is not None else ():
            statuses[compared.status] = statuses.get(compared.status, 0) + 1
            comparisons.append({"time": compared.time, "raw": compared.raw, "score": compared.score,
                                "status": compared.status, "opened": compared.opened,
                                "seconds": round(compared.seconds, 3), "at": time.time() - first_wall})
            if compared.opened:
                feed.publish({"type": "alert", "detector": "change", "start": compared.changed.start,
                              "sent_at": time.time()})

    while not reader.done:
        frame = reader.next_frame(0.1 if thread is not None else 0.5)
        take_comparisons()
        if frame is None:
            continue
        result = scorer.score(frame.time, frame.image)
        lags.append((frame.time, time.time() - (first_wall + frame.time), reader.lag))
        if result.opened:
            feed.publish({"type": "alert", "detector": "cae", "start": result.changed.start, "sent_at": time.time()})
        if thread is not None and frame.full is not None:
            thread.offer(frame.time, frame.full)
    if thread is not None:
        thread.stop(finish=False)
        take_comparisons()
        if thread.error:
            print(thread.error)
    publisher.wait(30)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    recorded = assemble(folder, workdir / "recording.mp4")
    (workdir / "change-live.json").write_text(json.dumps(comparisons, indent=0))  # each comparison, to look at
    return {"first_wall": first_wall, "lags": lags, "cpu": cpu, "wall": wall, "recorded": recorded,
            "dropped": reader.dropped, "skipped": reader.skipped, "error": reader.error, "scored": len(scorer.times),
            "compared": thread.compared if thread is not None else 0,
            "change_skipped": thread.skipped if thread is not None else 0, "statuses": statuses,
            "warm_up": thread.warmed_in if thread is not None else None}


def alert_latencies(received, windows, first_wall: float, detector: str | None = None):
    """Per labelled window (start, end), seconds from its start to the first alert (of `detector`, or any)
    starting in it (1 s of slack before); and how many alerts started in no window (false alerts)."""
    alerts = [(a, at) for a, at in received if detector is None or a.get("detector") == detector]
    latencies = []
    for start, end in windows:
        arrivals = [at for alert, at in alerts if start - 1.0 <= alert["start"] <= end]
        if arrivals:
            latencies.append(min(arrivals) - (first_wall + start))
    false = sum(1 for a, _ in alerts if not any(s - 1.0 <= a["start"] <= e for s, e in windows))
    return latencies, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--route", choices=("terrain", "patrol"), default="terrain")
    parser.add_argument("--seconds", type=float, default=90.0, help="terrain: the flight's length")
    parser.add_argument("--width", type=int, default=1280, help="terrain: frame width")
    parser.add_argument("--height", type=int, default=720, help="terrain: frame height")
    parser.add_argument("--fps", type=int, default=30, help="terrain: frame rate")
    parser.add_argument("--flight", choices=PATROL_FLIGHTS, default=PATROL_FLIGHTS[0], help="patrol: the test flight")
    parser.add_argument("--telemetry", action="store_true", help="patrol: CHANGE matches by the flight's poses")
    parser.add_argument("--feed-size", default=None, help="patrol: publish at WIDTHxHEIGHT (e.g. 1920x1080)")
    parser.add_argument("--feed-fps", type=int, default=30, help="patrol: the rate with --feed-size")
    parser.add_argument("--loops", type=int, default=1,
                        help="patrol: publish the flight this many times back to back (10 loops: a 10-minute stream; "
                             "with --telemetry CHANGE matches every loop by its poses)")
    parser.add_argument("--threads", type=int, default=2, help="patrol: torch threads for training")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "live")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    change, poses = None, None
    if args.route == "patrol":
        flight, windows, detector, change, poses = patrol_setup(args.workdir, args.threads, args.flight)
        if args.feed_size:
            flight = reencode(flight, args.feed_size, args.feed_fps, args.workdir)
        poses = poses if args.telemetry else None
        with av.open(str(flight)) as container:
            stream = container.streams.video[0]
            seconds = float(stream.duration * stream.time_base)
            tag = f"{stream.width}x{stream.height}p{float(stream.average_rate):g}"
        flight_seconds, flight_windows, flight_poses = seconds, windows, poses
        if args.loops > 1:
            windows, poses = looped(windows, poses, seconds, args.loops)
            seconds *= args.loops
            tag += f", published {args.loops} times back to back"
        print(f"flight {args.flight} of `patrol`: {seconds:g} s at {tag}, onsets at {', '.join(f'{w[0]:g}' for w in windows)} s; CAE "
              f"threshold {detector.threshold:.3f}, CHANGE threshold {change.threshold:.3f} matching "
              f"{'by telemetry' if poses is not None else 'visually'}")
    else:
        seconds, tag = args.seconds, f"{args.width}x{args.height}p{args.fps}"
        flight_seconds = seconds
        flight = generate_flight(args.workdir / f"flight-{tag}-{seconds:g}s.mp4", seconds=seconds,
                                 width=args.width, height=args.height, fps=args.fps, rafts=True, seed=1)
        normal = generate_flight(args.workdir / f"normal-{tag}.mp4", seconds=40, width=args.width,
                                 height=args.height, fps=args.fps, rafts=False, seed=1)
        detector = train_detector(normal, args.workdir)
        windows = [(t, t + RAFT_SECONDS) for t in raft_instants(seconds)]
        print(f"flight {flight.name}: {seconds:g} s at {tag}; CAE threshold {detector.threshold:.3f}")
    feed = Feed(args.redis)
    live = run_live(flight, detector, seconds, args.workdir, feed, change=change, poses=poses, loops=args.loops)
    if live["error"]:
        print(f"reader error: {live['error']}")
    print(f"live run: {live['scored']} frames scored by the CAE, {live['dropped']} sampled frames dropped, "
          f"{live['skipped']} frames skipped by the decoder to keep up")
    if change is not None:
        statuses = live["statuses"]
        print(f"CHANGE live: {live['compared']} frames compared of {live['compared'] + live['change_skipped']} "
              f"offered ({live['compared'] / max(1, live['compared'] + live['change_skipped']):.0%}; it always takes "
              f"the newest); compared / no reference / not aligned: {statuses.get(0, 0)} / {statuses.get(1, 0)} / "
              f"{statuses.get(2, 0)}; warmed up in {live['warm_up'] or 0:.2f} s before the stream started")
    print(f"CPU {live['cpu'] / live['wall']:.2f} cores on average (this process: reader, recorder, scorers; "
          f"FFmpeg's publisher apart), peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if live["lags"]:  # the reader's start: connecting and probing the stream before its first frame
        print(f"first sampled frame scored {live['lags'][0][1]:.2f} s after its instant (stream time from the "
              "publisher's start)")
    print("lag of the newest scored frame behind the stream (10 s windows: max s; decoder lag max s):")
    for start in np.arange(0, seconds, 10):
        window = [(lag, dec) for t, lag, dec in live["lags"] if start <= t < start + 10]
        if window:
            print(f"  {start:5.0f}-{start + 10:<5.0f} {max(w[0] for w in window):6.2f} {max(w[1] for w in window):6.2f}")
    print(f"recording {live['recorded']:.2f} s of the published {seconds:.2f} s")
    print("real-time factor of each part alone (x real time; above 1 keeps up):")
    factors = part_factors(flight, detector, flight_seconds, args.workdir)
    factors.update(ingest_factors(args.workdir / "recording.mp4", live["recorded"], args.workdir))
    for name, factor in factors.items():
        print(f"  {name:48s} {factor:6.2f}x")
    if change is None:
        change = train_change(args.workdir / f"normal-{tag}.mp4", args.workdir)
    per_comparison, statuses = change_seconds(flight, change)
    counted = f"frames compared / no reference / not aligned: {statuses[0]} / {statuses[1]} / {statuses[2]}"
    if per_comparison is None:
        print(f"  {'CHANGE live comparison at 2 fps':48s} not measured: no frame aligned ({counted})")
    else:
        print(f"  {'CHANGE live comparison at 2 fps':48s} {0.5 / per_comparison:6.2f}x ({per_comparison:.2f} s a "
              f"frame: it compares {min(1.0, 0.5 / per_comparison):.0%} of the sampled frames; {counted})")
    feed.done.set() if feed.client else None
    what = "rafts" if args.route == "terrain" else "onsets"
    if args.route == "patrol":
        flags = batch_flags(flight, {"cae": detector, "change": change}, flight_windows, flight_poses, SIZE)
        flags = {name: [None if f is None else f + k * flight_seconds for k in range(args.loops) for f in firsts]
                 for name, firsts in flags.items()}  # each replay's onsets as the first replay's
        print("alert latency from each onset, and from the frame the batch pass first flags in it (what the live "
              "path adds; the rest is how soon the detector sees the object):")
    for name in ("cae", "change") if args.route == "patrol" else ():
        latencies, false = alert_latencies(feed.received, windows, live["first_wall"], name)
        shown = (f"p50 {np.percentile(latencies, 50):.2f} s p95 {np.percentile(latencies, 95):.2f} s"
                 if latencies else "-")
        path = live_path_latencies(feed.received, windows, live["first_wall"], name, flags[name])
        added = (f"p50 {np.percentile(path, 50):.2f} s p95 {np.percentile(path, 95):.2f} s over {len(path)}"
                 if path else "-")
        firsts = ", ".join("-" if f is None else f"{f:.1f}" for f in flags[name])
        print(f"  {name}: {len(latencies)} of {len(windows)} {what} alerted, {false} false alerts; from the onset "
              f"{shown}; batch pass first flags at {firsts} s; live path adds {added}")
    latencies, false = alert_latencies(feed.received, windows, live["first_wall"])
    missed = len(windows) - len(latencies)
    print(f"alerts through {feed.kind}: {len(latencies)} of {len(windows)} {what}"
          f"{f', {missed} missed' if missed else ''}; false alerts {false}")
    if latencies:
        print(f"alert latency p50 {np.percentile(latencies, 50):.2f} s p95 {np.percentile(latencies, 95):.2f} s")
    else:
        print("alert latency p50 - s p95 - s (no alert)")


if __name__ == "__main__":
    main()
