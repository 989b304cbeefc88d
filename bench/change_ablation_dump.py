"""`bench/change_ablation.py dump`: the cache its `study` scores (see that script's docstring)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detection.change import compare  # noqa: E402
from detection.change.config import make_config  # noqa: E402
from detection.change.detector import ChangeDetector  # noqa: E402
from detection.change.train import branch_scales, build_index, learn_variation, read_poses  # noqa: E402
from detection.datasets.manifest import read_manifest  # noqa: E402
from detection.detector_file import load_detector  # noqa: E402
from detection.registry import TrainItem  # noqa: E402
from detection.synth.groundtruth import load_groundtruth  # noqa: E402
from detection.video.cache import frames_for  # noqa: E402


def dump(manifest: Path, out: Path, fps: float, overrides: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.set_grad_enabled(False)
    records = read_manifest(manifest)
    cache = out / f"frames-{fps:g}fps"

    def item(record):
        return TrainItem(frames_for(record.path, fps=fps, size=None, cache_dir=cache), record)

    # The study varies the scoring; the cache needs both branches and each candidate's own residuals.
    config = make_config({**overrides, "use_colour": True})
    detector_path = out / "change.pt"
    started = time.perf_counter()
    if detector_path.exists():
        detector = load_detector(detector_path)
    else:
        references = [item(r) for r in records if r.split == "train" and r.label == "normal"]
        index = build_index(references, config)
        detector = ChangeDetector(config, index, 0.0)
        index.scales = branch_scales(learn_variation(detector, references, lambda f, s: None))
        detector.save(detector_path)
    print(f"reference index and normal variation: {time.perf_counter() - started:.0f} s", flush=True)
    comparator = detector.comparator
    cells = comparator.grid.cells
    for record in records:
        if record.split not in ("val", "test"):
            continue
        target = out / f"{record.split}_{Path(record.path).parent.name}_{Path(record.path).stem}.npz"
        if target.exists():
            continue
        started = time.perf_counter()
        sampled = item(record)
        frames, times = sampled.frames.frames, np.asarray(sampled.frames.times)
        chosen, no_reference = detector.candidates(frames, times, read_poses(sampled))
        shape = (len(frames), chosen.shape[1], 2, cells[1], cells[0])
        distances, residuals = np.full(shape, np.nan, np.float16), np.full(shape, np.nan, np.float16)
        status = np.where(no_reference, 1, 0).astype(np.uint8)
        # today's previous sampled frame -> this one, on the grid (NaN: not aligned), for persistence on the ground
        motion = np.full((len(frames), 3, 3), np.nan)
        previous = None
        for i in range(len(frames)):
            today = detector.analysis_frames(frames, i)
            if previous is not None:
                h = comparator.homography(today, previous)
                if h is not None:
                    motion[i] = compare.resize_homography(h, comparator.size, cells)
            previous = today
        def fill(i: int, today: np.ndarray, aligned: list, distances=distances, residuals=residuals) -> None:
            for k, ((j, _, _), (pair, to_grid)) in enumerate(zip(aligned, comparator.pair_maps(today, aligned))):
                distances[i, k] = pair
                stored = detector.index.residuals[j].astype(np.float32)
                residuals[i, k] = np.stack([compare.warp(b, to_grid, cells, border=cv2.BORDER_REPLICATE)
                                            for b in stored])

        # as ChangeDetector.compare: today's previous compared frame and its aligned candidates carry a failure
        kept = [None] * len(frames)
        before = None
        for i in range(len(frames)):
            if no_reference[i]:
                before = None
                continue
            today = detector.analysis_frames(frames, i)
            aligned = comparator.align(today, [(int(j), detector.reference_frame(int(j))) for j in chosen[i] if j >= 0])
            if not aligned and before is not None:
                aligned = comparator.carried(today, *before)
            if not aligned:
                status[i] = 2
                before = None
                continue
            before = kept[i] = (today, aligned)
            fill(i, today, aligned)
        # status 3: failed forward, compared through today's next compared frame (the study's --forward-only: failed)
        after = None
        for i in reversed(range(len(frames))):
            if status[i] != 2:
                after = kept[i] if status[i] == 0 else None
                continue
            today = detector.analysis_frames(frames, i)
            aligned = comparator.carried(today, *after) if after is not None else []
            if aligned:
                status[i] = 3
                after = (today, aligned)
                fill(i, today, aligned)
            else:
                after = None
        truth = load_groundtruth(record.path)
        if truth is None:
            raise SystemExit(f"{record.path}: no ground truth (the study needs generated data)")
        np.savez_compressed(
            target, D=distances, E=residuals, status=status, masks=truth.masks_at(times, (cells[1], cells[0])),
            labels=truth.labels_at(times), classes=np.array(["|".join(sorted(c)) for c in truth.classes_at(times)]),
            scales=detector.index.scales, motion=motion,
        )
        print(f"{target.stem}: {len(frames)} frames, {time.perf_counter() - started:.0f} s", flush=True)
