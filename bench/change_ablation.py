"""What each part of the CHANGE detector's scoring gains: an ablation over cached comparison maps.

`dump` (bench/change_ablation_dump.py) trains CHANGE on a manifest's normal train flights (build_index and the
leave-one-out normal variation, as `train_from_items` does) and, for every frame of the val and test flights,
stores each candidate's raw distance maps (colour, CNN) and its warped leave-one-out residuals, with the
ground-truth masks on the grid.
Comparing frames (alignment, CNN) is the slow part; `study` then scores every variant of what follows (how the
residuals are pooled, which branches, frame normalisation, pooling over the map, persistence) from the cache in
seconds, and prints the frame ROC-AUC over all test frames and the mean per-video AUC (macro), per class too.
A frame no candidate aligns with is compared through today's previous compared frame, then (batch only) through
today's next one, as `ChangeDetector.analyse` does; `study --forward-only` counts the latter as failed (the live
path's view).

    python -P bench/change_ablation.py dump MANIFEST OUT [--fps 1] [--set analysis_width=640 ...]
    python -P bench/change_ablation.py study OUT [--only TEXT ...] [--forward-only]

The variants score exactly as `detection.change.detector.Comparator.compare_frame` does for the same
settings; `evaluate` remains the measure of record. The detector's own scoring is the row "ring 1, persistence on
the ground, radius 8, strict" (`ground_radius=8`, the sixteenth session's); the rows named "default" are the
fifteenth session's (the score-level persistence filter), which the other variants were measured against.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import grey_opening
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detection.change import compare  # noqa: E402
from detection.detector_file import load_detector  # noqa: E402

VARIANTS = {
    # name: (variation pooling "max"/"own"/"none", branches, frame normalisation, map pooling, persistence,
    #        margin: cells dropped next to where a candidate does not cover today's frame,
    #        ring: cells dropped along today's frame border)
    "before (own residual, both branches, no frame normalisation)": ("own", (0, 1), "none", "max", 2, 0, 0),
    "+ highest residual of the candidates": ("max", (0, 1), "none", "max", 2, 0, 0),
    "+ robust z over the frame": ("max", (0, 1), "mad", "max", 2, 0, 0),
    "colour branch only": ("max", (0,), "mad", "max", 2, 0, 0),
    "CNN branch only = default": ("max", (1,), "mad", "max", 2, 0, 0),
    "default, own residual": ("own", (1,), "mad", "max", 2, 0, 0),
    "default, no residual": ("none", (1,), "mad", "max", 2, 0, 0),
    "default, no frame normalisation": ("max", (1,), "none", "max", 2, 0, 0),
    "default, mean of top 10 cells": ("max", (1,), "mad", "top10", 2, 0, 0),
    "default, no persistence": ("max", (1,), "mad", "max", 1, 0, 0),
    "default, persistence 3": ("max", (1,), "mad", "max", 3, 0, 0),
    "default, margin 2 from uncovered cells": ("max", (1,), "mad", "max", 2, 2, 0),
    "default, margin 4 from uncovered cells": ("max", (1,), "mad", "max", 2, 4, 0),
    "default, margin 8 from uncovered cells": ("max", (1,), "mad", "max", 2, 8, 0),
    "default, frame border ring 1": ("max", (1,), "mad", "max", 2, 0, 1),
    "default, frame border ring 2": ("max", (1,), "mad", "max", 2, 0, 2),
    "default, frame border ring 4": ("max", (1,), "mad", "max", 2, 0, 4),
    "default, frame border ring 8": ("max", (1,), "mad", "max", 2, 0, 8),
    "default, margin 4 and ring 4": ("max", (1,), "mad", "max", 2, 4, 4),
    "default, margin 8 and ring 8": ("max", (1,), "mad", "max", 2, 8, 8),
    "default, local robust z, 4 blocks across": ("max", (1,), "local4", "max", 2, 0, 0),
    "default, local robust z, 6 blocks across": ("max", (1,), "local6", "max", 2, 0, 0),
    "default, local robust z, 8 blocks across": ("max", (1,), "local8", "max", 2, 0, 0),
    "default, local robust z, 12 blocks across": ("max", (1,), "local12", "max", 2, 0, 0),
    "default, local robust z, 16 blocks across": ("max", (1,), "local16", "max", 2, 0, 0),
    "default, local 8 blocks, ring 2": ("max", (1,), "local8", "max", 2, 0, 2),
    "default, local floored at the frame's, 4 blocks": ("max", (1,), "localf4", "max", 2, 0, 0),
    "default, local floored at the frame's, 6 blocks": ("max", (1,), "localf6", "max", 2, 0, 0),
    "default, local floored at the frame's, 8 blocks": ("max", (1,), "localf8", "max", 2, 0, 0),
    "default, local floored at the frame's, 12 blocks": ("max", (1,), "localf12", "max", 2, 0, 0),
    "default, local floored 8, ring 2": ("max", (1,), "localf8", "max", 2, 0, 2),
    # persistence -2: the default's persistence 2, or one comparison alone at the level that is as rare among the
    # val flights' normal frames (`single_frame_ratio`, as the live path alerts; ratio from the val_*.npz)
    "default, persistence 2 or one comparison at the single level": ("max", (1,), "mad", "max", -2, 0, 1),
    # groundRs: persistence on the ground, per cell (`ground_persistence`): the map against the previous and next
    # sampled frames' maps moved into this view (today's frame-to-frame homography) and dilated by R cells;
    # s: where a neighbour does not see this cell, it does not confirm it; k: the cell keeps its own value there
    "ring 1, persistence on the ground, radius 0, strict": ("max", (1,), "mad", "ground0s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 1, strict": ("max", (1,), "mad", "ground1s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 2, strict": ("max", (1,), "mad", "ground2s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 4, strict": ("max", (1,), "mad", "ground4s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 8, strict": ("max", (1,), "mad", "ground8s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 12, strict": ("max", (1,), "mad", "ground12s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 16, strict": ("max", (1,), "mad", "ground16s", 1, 0, 1),
    "ring 1, persistence on the ground, radius 1, keep": ("max", (1,), "mad", "ground1k", 1, 0, 1),
    "ring 1, persistence on the ground, radius 2, keep": ("max", (1,), "mad", "ground2k", 1, 0, 1),
    "ring 1, persistence on the ground, radius 4, keep": ("max", (1,), "mad", "ground4k", 1, 0, 1),
    "ring 1, persistence on the ground, radius 2, previous frame only": ("max", (1,), "mad", "ground2p", 1, 0, 1),
    "ring 1, persistence on the ground, radius 2, then persistence 2": ("max", (1,), "mad", "ground2s", 2, 0, 1),
    # the detector's scoring (radius 8) without its normal variation, or without its frame normalisation
    "ground radius 8, no residual": ("none", (1,), "mad", "ground8s", 1, 0, 1),
    "ground radius 8, own residual": ("own", (1,), "mad", "ground8s", 1, 0, 1),
    "ground radius 8, no frame normalisation": ("max", (1,), "none", "ground8s", 1, 0, 1),
    "ground radius 8, no residual, no frame normalisation": ("none", (1,), "none", "ground8s", 1, 0, 1),
    # candidates: a dump with `--set candidates=6` holds six per frame; these use the first K (the best matches)
    "ring 1, 1 candidate": ("max", (1,), "mad", "max", 2, 0, 1, 1),
    "ring 1, 2 candidates": ("max", (1,), "mad", "max", 2, 0, 1, 2),
    "ring 1, 3 candidates": ("max", (1,), "mad", "max", 2, 0, 1, 3),
    "ring 1, 4 candidates": ("max", (1,), "mad", "max", 2, 0, 1, 4),
    "ring 1, 5 candidates": ("max", (1,), "mad", "max", 2, 0, 1, 5),
    "ring 1, 6 candidates": ("max", (1,), "mad", "max", 2, 0, 1, 6),
    "ring 1, 6 candidates, own residual": ("own", (1,), "mad", "max", 2, 0, 1, 6),
    "ring 1, 6 candidates, persistence 3": ("max", (1,), "mad", "max", 3, 0, 1, 6),
    "default, less each cell's median over the last 4 frames": ("max", (1,), "mad", "fixed4", 2, 0, 0),
    "default, less each cell's median over the last 6 frames": ("max", (1,), "mad", "fixed6", 2, 0, 0),
    "default, less each cell's median over the last 10 frames": ("max", (1,), "mad", "fixed10", 2, 0, 0),
    "default, less each cell's median over the last 20 frames": ("max", (1,), "mad", "fixed20", 2, 0, 0),
    "default, less the median over 10 frames of each cell's 5x5 max": ("max", (1,), "mad", "fixed10x5", 2, 0, 0),
    "default, less the median over 10 frames of each cell's 9x9 max": ("max", (1,), "mad", "fixed10x9", 2, 0, 0),
    "default, less the median over 10 frames of each cell's 15x15 max": ("max", (1,), "mad", "fixed10x15", 2, 0, 0),
    "default, less the median over 6 frames of each cell's 9x9 max": ("max", (1,), "mad", "fixed6x9", 2, 0, 0),
    # camQ_D: what stays at one place in the picture while the ground moves under it (sun glint, a dirty lens):
    # each cell less the Q-th percentile of its values in today's other frames that look at other ground (today's
    # motion moved the frame's centre at least D/100 of the frame's width away; the whole flight, or the frames so
    # far with "c" at the end: the live path's view)
    "default, less the camera-fixed median, 12% away": ("max", (1,), "mad", "cam50_12", 2, 0, 0),
    "default, less the camera-fixed median, 25% away": ("max", (1,), "mad", "cam50_25", 2, 0, 0),
    "default, less the camera-fixed median, 50% away": ("max", (1,), "mad", "cam50_50", 2, 0, 0),
    "default, less the camera-fixed 75th percentile, 25% away": ("max", (1,), "mad", "cam75_25", 2, 0, 0),
    "default, less the camera-fixed 90th percentile, 25% away": ("max", (1,), "mad", "cam90_25", 2, 0, 0),
    "ground radius 8, less the camera-fixed 90th percentile, 25% away": ("max", (1,), "mad", "ground8s+cam90_25",
                                                                          1, 0, 1),
    "ground radius 8, less the camera-fixed 75th percentile, 25% away": ("max", (1,), "mad", "ground8s+cam75_25",
                                                                          1, 0, 1),
    "ground radius 8, less the camera-fixed median, 25% away": ("max", (1,), "mad", "ground8s+cam50_25", 1, 0, 1),
    "ground radius 8, less the camera-fixed 90th percentile, 25% away, causal": (
        "max", (1,), "mad", "ground8s+cam90_25c", 1, 0, 1),
    "default, less the camera-fixed median, 25% away, causal": ("max", (1,), "mad", "cam50_25c", 2, 0, 0),
    "default, less the camera-fixed 75th percentile, 25% away, causal": ("max", (1,), "mad", "cam75_25c", 2, 0, 0),
}


def robust_z_local(values: np.ndarray, covered: np.ndarray, blocks: int, floor: str = "quarter") -> np.ndarray:
    """(gh, gw) float32: `values` as robust z-scores against their neighbourhood: the median and MAD of the covered
    cells in each of about `blocks` x `blocks * gh / gw` blocks, interpolated between block centres (bilinear),
    clipped at 0 (uncovered cells 0). A change spread over a region (whitecaps over open water, a wet beach)
    raises its region's median and MAD with it, so only what stands out from its own surroundings scores high;
    an object of a few cells barely moves its block's median and MAD. A block with fewer than a quarter of its
    cells covered takes the frame's median and MAD (`robust_z`'s); the MAD's floor is the frame's MAD / 4 (and
    1e-3), so a uniform calm region does not turn noise into large scores."""
    inside = values[covered]
    if inside.size == 0:
        return np.zeros_like(values, dtype=np.float32)
    frame_median = float(np.median(inside))
    frame_spread = max(float(np.median(np.abs(inside - frame_median))), 1e-3)
    height, width = values.shape
    across = max(1, min(int(blocks), width))
    down = max(1, min(round(blocks * height / width), height))
    ys = np.linspace(0, height, down + 1).round().astype(int)
    xs = np.linspace(0, width, across + 1).round().astype(int)
    medians = np.full((down, across), frame_median, np.float32)
    spreads = np.full((down, across), frame_spread, np.float32)
    for i in range(down):
        for j in range(across):
            block = values[ys[i]:ys[i + 1], xs[j]:xs[j + 1]]
            kept = block[covered[ys[i]:ys[i + 1], xs[j]:xs[j + 1]]]
            if kept.size * 4 >= block.size and kept.size > 0:
                medians[i, j] = np.median(kept)
                spreads[i, j] = np.median(np.abs(kept - medians[i, j]))
    if floor == "frame":  # a region is judged against its own variation only where it varies more than the frame
        spreads = np.maximum(spreads, frame_spread)
        medians = np.maximum(medians, frame_median)
    else:
        spreads = np.maximum(spreads, max(frame_spread / 4, 1e-3))
    median_map = cv2.resize(medians, (width, height), interpolation=cv2.INTER_LINEAR)
    spread_map = cv2.resize(spreads, (width, height), interpolation=cv2.INTER_LINEAR)
    result = np.maximum((values - median_map) / spread_map, 0.0)
    result[~covered] = 0.0
    return result.astype(np.float32)


def drop_edges(distances: np.ndarray, margin: int, ring: int) -> np.ndarray:
    """(K, 2, gh, gw) distances with NaN also within `margin` cells of each candidate's uncovered cells and
    within `ring` cells of the frame's border."""
    if margin <= 0 and ring <= 0:
        return distances
    out = distances.copy()
    h, w = distances.shape[-2:]
    for k in range(len(out)):
        covered = np.isfinite(out[k]).any(axis=0)
        if margin > 0:
            # Outside the frame counts as covered here: the ring, not the margin, handles the frame's border.
            covered = cv2.erode(covered.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8),
                                borderType=cv2.BORDER_CONSTANT, borderValue=1) > 0
        if ring > 0:
            covered[:ring], covered[-ring:], covered[:, :ring], covered[:, -ring:] = False, False, False, False
        out[k][:, ~covered] = np.nan
    return out


def frame_score(d: dict, i: int, variant) -> float:
    smoothed = frame_map(d, i, variant)
    if smoothed is None:
        return 0.0
    flat = smoothed.ravel()
    return float(flat.max() if variant[3] != "top10" else np.sort(flat)[-10:].mean())


def flight_scores(d: dict, variant) -> np.ndarray:
    """Every frame's score of one flight; "fixedN" pooling first takes off each cell's median over the flight's
    previous N compared frames (what stays at one place in the frame while the ground moves: glint, edges)."""
    how = variant[3]
    count = len(d["labels"])
    if how.startswith("ground"):
        return ground_persistence(d, variant)
    if how.startswith("cam"):
        return camera_fixed(d, variant)
    if not how.startswith("fixed"):
        return np.array([frame_score(d, i, variant) if d["status"][i] == 0 else 0.0 for i in range(count)])
    window, _, spread = how[5:].partition("x")
    window = int(window)
    maps = [frame_map(d, i, variant) if d["status"][i] == 0 else None for i in range(count)]
    backgrounds = maps
    if spread:
        size = int(spread)
        backgrounds = [None if m is None else cv2.dilate(m, np.ones((size, size), np.uint8)) for m in maps]
    scores = np.zeros(count)
    for i, current in enumerate(maps):
        if current is None:
            continue
        past = [m for m in backgrounds[max(0, i - window):i] if m is not None]
        if len(past) >= 3:
            current = np.maximum(current - np.median(np.stack(past), axis=0), 0.0)
        scores[i] = float(current.max())
    return scores


def centre_travel(d: dict, width: int, height: int) -> np.ndarray:
    """(N, N): how far today's motion carried the frame centre between frames i and j, in frame widths
    (inf where the chain of frame-to-frame homographies breaks: the frames count as far apart)."""
    count = len(d["labels"])
    motion = d.get("motion")
    travel = np.full((count, count), np.inf)
    centre = np.array([width / 2, height / 2, 1.0])
    for i in range(count):
        travel[i, i] = 0.0
        chain = np.eye(3)
        for j in range(i + 1, count):
            step = None if motion is None else motion[j]  # frame j-1 -> frame j on the grid
            if step is None or not np.isfinite(step).all():
                break
            chain = step @ chain
            p = chain @ centre
            travel[i, j] = travel[j, i] = float(np.hypot(*(p[:2] / p[2] - centre[:2]))) / width
    return travel


def camera_fixed(d: dict, variant) -> np.ndarray:
    """Every frame's score when what stays at one place in the picture is taken off: each cell less the Q-th
    percentile of the same cell in today's other compared frames whose centre today's motion moved at least D
    (a fraction of the frame's width) away, so they look at other ground there. A new object is on the ground:
    it is at this cell only while the drone is near, never in those frames; sun glint and a dirty lens stay."""
    maps = camera_fixed_maps(d, variant, variant[3][3:])
    return np.array([0.0 if m is None else float(m.max()) for m in maps])


def camera_fixed_maps(d: dict, variant, spec: str) -> list:
    """Each frame's map less the camera-fixed part (`camera_fixed`), None where the frame was not compared."""
    causal = spec.endswith("c")
    q, distance = (float(x) for x in spec.rstrip("c").split("_"))
    count = len(d["labels"])
    maps = [frame_map(d, i, variant) if d["status"][i] == 0 else None for i in range(count)]
    shape = next((m.shape for m in maps if m is not None), None)
    if shape is None:
        return maps
    travel = centre_travel(d, shape[1], shape[0])
    out = []
    for i, current in enumerate(maps):
        if current is not None:
            others = [maps[j] for j in range(count) if maps[j] is not None and travel[i, j] >= distance / 100
                      and (j < i or not causal)]
            if len(others) >= 3:
                current = np.maximum(current - np.percentile(np.stack(others), q, axis=0), 0.0)
        out.append(current)
    return out


def ground_persistence(d: dict, variant) -> np.ndarray:
    """Every frame's score when a change must persist at its place on the ground: each cell keeps the higher of
    min(its value, the previous frame's map at that ground place) and the same with the next frame, the
    neighbours' maps moved into this view by today's frame-to-frame homography (`motion` of the dump) and
    dilated by R cells (a moving boat, residual misalignment). Glint and whitecaps, which stay at a place in the
    frame or sparkle, do not persist on the ground; an object does. A neighbour without a map or a motion
    counts with its frame score (the score-level persistence of the detector)."""
    how, _, camera = variant[3][6:].partition("+cam")
    radius, mode = int(how[:-1]), how[-1]
    count = len(d["labels"])
    if camera:  # "groundRs+camQ_D": the camera-fixed part taken off each map first
        maps = camera_fixed_maps(d, variant, camera)
    else:
        maps = [frame_map(d, i, variant) if d["status"][i] == 0 else None for i in range(count)]
    peaks = [0.0 if m is None else float(m.max()) for m in maps]
    motion = d.get("motion")
    kernel = np.ones((2 * radius + 1,) * 2, np.uint8)
    scores = np.zeros(count)
    for i, current in enumerate(maps):
        if current is None:
            continue
        h, w = current.shape
        best = np.zeros_like(current)
        for j in (i - 1, i + 1):
            if mode == "p" and j > i:
                continue
            if not 0 <= j < count or maps[j] is None:
                continue
            step = None if motion is None else motion[max(i, j)]  # the earlier frame -> the later one
            if step is None or not np.isfinite(step).all():
                best = np.maximum(best, np.minimum(current, peaks[j]))
                continue
            to_here = step if j < i else np.linalg.inv(step)
            moved = cv2.warpPerspective(maps[j], to_here, (w, h), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)
            seen = moved >= 0
            if radius > 0:
                moved = cv2.dilate(moved, kernel)
            confirmed = np.minimum(current, moved)
            confirmed[~seen] = current[~seen] if mode == "k" else 0.0
            best = np.maximum(best, confirmed)
        scores[i] = float(best.max())
    return scores


def frame_map(d: dict, i: int, variant) -> np.ndarray | None:
    pooling, branches, normalisation, how, _, margin, ring = variant[:7]
    used = variant[7] if len(variant) > 7 else None  # the first this many candidates only (None: all dumped)
    stored_d, stored_e = d["D"][i][:used], d["E"][i][:used]
    ok = ~np.all(np.isnan(stored_d[:, 1]), axis=(1, 2))
    distances, residuals = stored_d[ok].astype(np.float32), np.nan_to_num(stored_e[ok].astype(np.float32))
    distances = drop_edges(distances, margin, ring)
    if pooling == "none":
        residuals = np.zeros_like(residuals)
    elif pooling == "max":
        residuals = np.broadcast_to(residuals.max(axis=0, keepdims=True), residuals.shape)
    normalised = [compare.normalise(dist, res, d["scales"].astype(np.float64)) for dist, res in zip(distances, residuals)]
    combined, _ = compare.combine(normalised, (0 in branches, 1 in branches))
    if not np.isfinite(combined).any():
        return None
    smoothed = compare.smooth_map(combined, 1.0)
    if normalisation == "mad":
        smoothed = compare.robust_z(smoothed, np.isfinite(combined))
    elif normalisation.startswith("localf"):
        smoothed = robust_z_local(smoothed, np.isfinite(combined), int(normalisation[6:]), floor="frame")
    elif normalisation.startswith("local"):
        smoothed = robust_z_local(smoothed, np.isfinite(combined), int(normalisation[5:]))
    return smoothed


def single_ratio(val: dict, variant, quantile: float = 0.995) -> float:
    """The val flights' normal frames: the `quantile` of single comparisons over that of the opened scores."""
    raw, opened = [], []
    for d in val.values():
        s = flight_scores(d, variant)
        normal = ~d["labels"].astype(bool) & (d["status"] == 0)
        raw.append(s[normal])
        opened.append(grey_opening(s, size=-variant[4], mode="nearest")[normal])
    high = np.quantile(np.concatenate(opened), quantile)
    ratio = max(1.0, float(np.quantile(np.concatenate(raw), quantile) / high)) if high > 0 else 1.0
    print(f"single-comparison ratio from {len(val)} val flights: {ratio:.3f}")
    return ratio


def study(out: Path, only: list[str] | None = None, forward_only: bool = False) -> None:
    data = {Path(f).stem: dict(np.load(f)) for f in sorted(out.glob("test_*.npz"))}
    if not data:
        raise SystemExit(f"no test_*.npz in {out}: run dump first")
    for d in data.values():
        if "scales" not in d:  # caches written before the scales were stored with each flight
            d["scales"] = load_detector(out / "change.pt").index.scales
    print(f"{out}: {len(data)} test flights, {sum(len(d['labels']) for d in data.values())} frames")
    val = {Path(f).stem: dict(np.load(f)) for f in sorted(out.glob("val_*.npz"))}
    for d in val.values():
        d.setdefault("scales", next(iter(data.values()))["scales"])
    for d in [*data.values(), *val.values()]:  # status 3: compared through today's next frame
        d["status"] = np.where(d["status"] == 3, 2 if forward_only else 0, d["status"])
    for name, variant in VARIANTS.items():
        if only and not any(part in name for part in only):
            continue
        scores, labels, classes, macro = [], [], [], []
        ratio = single_ratio(val, variant) if variant[4] < -1 else None
        for d in data.values():
            s = flight_scores(d, variant)
            if variant[4] > 1:
                s = np.where(d["status"] == 0, grey_opening(s, size=variant[4], mode="nearest"), 0.0)
            elif variant[4] < -1:
                opened = grey_opening(s, size=-variant[4], mode="nearest")
                s = np.where(d["status"] == 0, np.maximum(opened, s / ratio), 0.0)
            scores.append(s)
            labels.append(d["labels"])
            classes.append(d["classes"])
            if d["labels"].any() and (~d["labels"]).any():
                macro.append(roc_auc_score(d["labels"], s))
        s, y, c = np.concatenate(scores), np.concatenate(labels), np.concatenate(classes)
        per_class = []
        for cls in sorted({x for cc in c for x in str(cc).split("|") if x}):
            inside = np.array([cls in str(cc).split("|") for cc in c])
            auc = roc_auc_score(np.r_[np.ones(inside.sum()), np.zeros((~y).sum())], np.r_[s[inside], s[~y]])
            per_class.append(f"{cls} {auc:.2f}")
        print(f"{name:62s} frame AUC {roc_auc_score(y, s):.3f}  macro {np.mean(macro):.3f}  | {', '.join(per_class)}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("manifest", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--fps", type=float, default=2.0)
    d.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    s = sub.add_parser("study")
    s.add_argument("out", type=Path)
    s.add_argument("--only", action="append", metavar="TEXT", help="only the variants whose name contains TEXT")
    s.add_argument("--forward-only", action="store_true", help="frames compared through the next frame count as failed")
    args = parser.parse_args()
    if args.command == "dump":
        from bench.change_ablation_dump import dump

        overrides = dict(item.split("=", 1) for item in args.set)
        dump(args.manifest, args.out, args.fps, overrides)
    else:
        study(args.out, args.only, args.forward_only)


if __name__ == "__main__":
    main()
