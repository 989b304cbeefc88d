"""CHANGE detector speed: analysed frames/s at native size, reference index build time and size per flight hour,
and the ratio to the CAE's scoring time measured in the same run.

    PYTHONPATH=. python -P bench/change.py /tmp/patrol-bench/p/manifest.csv --threads 2 --frames 24

Uses the manifest's first `--references` normal train flights (first `--frames` frames each, 2 fps, native size)
as the reference set, and scores the first `--frames` frames of its first test flight with its telemetry. The
CAE (trained for one epoch: its scoring cost does not depend on training) scores the same frames at 124x124.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=24, help="frames per flight (default 24 = 12 s)")
    parser.add_argument("--references", type=int, default=3)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a CHANGE config field")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from detection.cae.train import train_from_items as train_cae
    from detection.change.config import make_config
    from detection.change.detector import ChangeDetector
    from detection.change.train import build_index, learn_variation, read_poses
    from detection.datasets.manifest import read_manifest
    from detection.registry import TrainItem
    from detection.types import SampledFrames
    from detection.video.cache import frames_for

    records = list(getattr(read_manifest(args.manifest), "records", read_manifest(args.manifest)))
    cache = args.cache_dir or args.manifest.parent / ".frame-cache"

    def item(record, size):
        sampled = frames_for(record.path, fps=args.fps, size=size, cache_dir=cache)
        n = min(args.frames, len(sampled.times))
        return TrainItem(SampledFrames(np.asarray(sampled.frames[:n]), sampled.times[:n]), record)

    normal = [r for r in records if r.split == "train" and r.label == "normal"][: args.references]
    test = next(r for r in records if r.split == "test")
    references = [item(r, None) for r in normal]
    today = item(test, None)
    height, width = today.frames.frames.shape[1:3]
    overrides = dict(s.split("=", 1) for s in args.set)
    config = make_config(overrides)

    started = time.perf_counter()
    index = build_index(references, config)
    detector = ChangeDetector(config, index, 0.0)
    learn_variation(detector, references, lambda f, s: None)
    build_s = time.perf_counter() - started
    ref_frames = len(index)
    hours = ref_frames / args.fps / 3600
    print(f"frames {width}x{height}, {args.threads} torch threads, {len(references)} reference flights x "
          f"{args.frames} frames")
    print(f"index build (frames, descriptors, JPEG, leave-one-out variation): {build_s:.1f} s for {ref_frames} "
          f"frames = {build_s / hours / 3600:.2f} s per flight second, {build_s / hours / 60:.0f} min per flight hour")
    print(f"index size: {index.size_bytes() / 1e6:.1f} MB = {index.size_bytes() / hours / 1e9:.2f} GB per flight hour")

    poses = read_poses(today)
    detector.score_frames(today.frames.frames[:2], today.frames.times[:2], poses=poses)  # warm-up
    started = time.perf_counter()
    scored = detector.score_frames(today.frames.frames, today.frames.times, poses=poses)
    elapsed = time.perf_counter() - started
    change_s = elapsed / len(today.frames.times)
    status = scored.extras["frame_status"]
    compared = int(np.sum(status == 0))
    print(f"change: {1 / change_s:.2f} analysed frames/s ({change_s * 1000:.0f} ms per frame); frames compared / no "
          f"reference / not aligned: {compared} / {int(np.sum(status == 1))} / {int(np.sum(status == 2))} (the last "
          f"two end early)")
    if compared:
        print(f"change, compared frames only: {compared / elapsed:.2f} frames/s (all of the time over the compared "
              f"frames: a lower bound)")

    small = [item(r, (124, 124)) for r in normal]
    cae, _ = train_cae(small[:-1], small[-1:], overrides={"epochs": 1}, seed=0)
    cae_today = item(test, (124, 124))
    cae.score_frames(cae_today.frames.frames[:2], cae_today.frames.times[:2])
    started = time.perf_counter()
    cae.score_frames(cae_today.frames.frames, cae_today.frames.times)
    cae_s = (time.perf_counter() - started) / len(cae_today.frames.times)
    print(f"cae (124x124): {1 / cae_s:.1f} frames/s ({cae_s * 1000:.1f} ms per frame)")
    print(f"ratio change / cae scoring time per frame: {change_s / cae_s:.0f}x")


if __name__ == "__main__":
    main()
