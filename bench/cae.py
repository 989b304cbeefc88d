"""CAE throughput on this machine: scoring frames/s at 124x124, training frames/s, tiled cost per 1080p frame.

    .venv/bin/python bench/cae.py                 # everything, CPU threads 1 and all
    .venv/bin/python bench/cae.py --threads 2 --only score

Scoring is measured two ways: the network alone (batched forward under torch.inference_mode, channels_last)
and the whole `CAEDetector.score_frames` (uint8 frames in; error maps, smoothing, top-k scores, pooled uint8
heatmaps and events out). Untrained weights: the cost does not depend on what the weights are.
Heatmap storage per hour of video at 2 fps is computed from the stored heatmap shape.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0] and bench/queue.py would shadow the standard library's queue.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from detection.cae.anomaly_map import heatmap_shape  # noqa: E402
from detection.cae.config import make_config  # noqa: E402
from detection.cae.losses import reconstruction_loss  # noqa: E402
from detection.cae.model import build_model  # noqa: E402
from detection.cae.scoring import CAEDetector  # noqa: E402


def frames(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def timed(function, repeats: int) -> tuple[float, float]:
    """Best-of-`repeats` (wall seconds, process CPU seconds) of one call, after one warm-up call.

    On a shared, busy machine the wall time says little; with one thread, the CPU time is what the call
    would take on an idle core.
    """
    function()
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu


def detector_for(preset: str, **overrides) -> CAEDetector:
    config = make_config({"config": preset, **overrides})
    model = build_model(config).to(memory_format=torch.channels_last)
    return CAEDetector(model, config, threshold=0.0, normalisation={"score_mean": 0.0, "score_std": 1.0})


SCORING_CASES = (("default", "default", {}), ("def+ssim", "default", {"error": "ssim_l1"}), ("report", "report", {}))


def bench_scoring(preset: str, batch: int, repeats: int, **overrides) -> dict:
    detector = detector_for(preset, inference_batch=batch, **overrides)
    x = torch.rand(batch, 3, 124, 124).contiguous(memory_format=torch.channels_last)

    def forward():
        with torch.inference_mode():
            detector.model(x)

    video = frames(4 * batch, 124, 124)
    times = np.arange(len(video)) * 0.5
    network = timed(forward, repeats)
    pipeline = timed(lambda: detector.score_frames(video, times), repeats)
    return {
        "network_fps": batch / network[0],
        "network_cpu_fps": batch / network[1],
        "pipeline_fps": len(video) / pipeline[0],
        "pipeline_cpu_fps": len(video) / pipeline[1],
    }


def bench_training(preset: str, batch: int, steps: int) -> float:
    config = make_config({"config": preset, "batch_size": batch})
    model = build_model(config).to(memory_format=torch.channels_last).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    x = torch.rand(batch, 3, 124, 124).contiguous(memory_format=torch.channels_last)

    def step():
        loss = reconstruction_loss(x, model(x), config.loss, ssim_weight=config.ssim_weight)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    step()
    started, started_cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - started), batch * steps / (time.process_time() - started_cpu)


def bench_tiled(repeats: int, tile: int) -> dict:
    detector = detector_for("default", tiled=True, input_size=tile, inference_batch=256)
    video = frames(1, 1080, 1920)
    wall, cpu = timed(lambda: detector.score_frames(video, np.zeros(1)), repeats)
    shape = heatmap_shape(1080, 1920, detector.config.heatmap_pixels)
    return {"seconds_per_frame": wall, "cpu_seconds_per_frame": cpu, "heatmap": shape}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, action="append", help="torch CPU threads (repeatable)")
    parser.add_argument("--only", choices=["score", "train", "tiled", "storage"], action="append")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    threads = args.threads or sorted({1, os.cpu_count() or 1})
    parts = args.only or ["score", "train", "tiled", "storage"]
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    for count in threads:
        torch.set_num_threads(count)
        print(f"\n## {count} thread(s)", flush=True)
        if "score" in parts:
            for name, preset, overrides in SCORING_CASES:
                for batch in (64, 256):
                    result = bench_scoring(preset, batch, args.repeats, **overrides)
                    print(f"score {name:10s} batch {batch:3d}: network {result['network_fps']:6.0f} frames/s "
                          f"({result['network_cpu_fps']:.0f} per CPU second), score_frames "
                          f"{result['pipeline_fps']:6.0f} frames/s ({result['pipeline_cpu_fps']:.0f} per CPU second)")
        if "train" in parts:
            for preset in ("default", "report"):
                batch = make_config({"config": preset}).batch_size
                wall, cpu = bench_training(preset, batch, 10)
                print(f"train {preset:8s} batch {batch:3d}: {wall:6.0f} frames/s ({cpu:.0f} per CPU second)")
        if "tiled" in parts:
            result = bench_tiled(args.repeats, 128)
            print(f"tiled default, 128-pixel tiles, 25% overlap: {result['seconds_per_frame']:.2f} s per 1080p "
                  f"frame (220 tiles; {result['cpu_seconds_per_frame']:.2f} CPU s), heatmap {result['heatmap']}")
    if "storage" in parts:
        for height, width in ((124, 124), (1080, 1920)):
            h, w = heatmap_shape(height, width, make_config().heatmap_pixels)
            print(f"heatmaps for {width}x{height} frames: {h}x{w} uint8, {7200 * h * w / 1e6:.1f} MB per hour at 2 fps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
