"""Reading and writing one video's scores on disk (media/scores/<id>/), written whole or not at all.

Layout: `scores.npz` (times, frame_scores, threshold, heatmap_scale, and segment_scores/segment_bounds when
present), `heatmaps.npy` ((N, h, w) uint8, memory-mappable) when present, `events.json`, and
`reconstructions.npz` (indices (K,), images (K, S, S, 3) uint8) for the few frames whose reconstruction was
kept (event peaks), when the detector can reconstruct: `extras["reconstructions"] = (indices, images)`.
A CHANGE detector's per-frame reference facts (`extras` frame_status (N,) uint8: 0 ok, 1 no reference,
2 alignment failed; reference_ids (str list); reference_index (N,) int, -1 none; reference_times (N,) float; change (N,) int8: 1 new, -1 vanished)
go into `scores.npz` too and come back in `extras`; `comparisons.npz` (indices (K,), today and reference
(K, h, w, 3) uint8: the reference warped into today's view) holds its event peaks' compare images, from
`extras["comparisons"]`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from detection.atomic_files import replacing, write_text
from detection.types import DetectedEvent, VideoScores

REFERENCE_EXTRAS = {"frame_status": np.uint8, "reference_index": np.int64, "reference_times": np.float64,
                    "change": np.int8}


def save_video_scores(directory: Path, scores: VideoScores) -> None:
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        arrays = {
            "times": np.asarray(scores.times, dtype=np.float64),
            "frame_scores": np.asarray(scores.frame_scores, dtype=np.float32),
            "threshold": np.float64(scores.threshold),
            "heatmap_scale": np.float64(scores.heatmap_scale),
        }
        if scores.segment_scores is not None:
            arrays["segment_scores"] = np.asarray(scores.segment_scores, dtype=np.float32)
            arrays["segment_bounds"] = np.asarray(scores.segment_bounds, dtype=np.float64)
        for key, dtype in REFERENCE_EXTRAS.items():
            if key in scores.extras:
                arrays[key] = np.asarray(scores.extras[key], dtype=dtype)
        if "reference_ids" in scores.extras:
            arrays["reference_ids"] = np.array([str(v) for v in scores.extras["reference_ids"]], dtype=np.str_)
        np.savez(staging / "scores.npz", **arrays)
        if scores.heatmaps is not None:
            np.save(staging / "heatmaps.npy", np.asarray(scores.heatmaps, dtype=np.uint8))
        (staging / "events.json").write_text(json.dumps([asdict(e) for e in scores.events], indent=1))
        kept = scores.extras.get("reconstructions")
        if kept is not None:
            indices, images = kept
            np.savez(staging / "reconstructions.npz", indices=np.asarray(indices, dtype=np.int64),
                     images=np.asarray(images, dtype=np.uint8))
        compared = scores.extras.get("comparisons")
        if compared is not None:
            indices, today, reference = compared
            np.savez(staging / "comparisons.npz", indices=np.asarray(indices, dtype=np.int64),
                     today=np.asarray(today, dtype=np.uint8), reference=np.asarray(reference, dtype=np.uint8))
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def save_events(directory: Path, threshold: float, events) -> None:
    """Record events re-derived at a new `threshold` beside the unchanged frame scores: `events.json` and the
    threshold in `scores.npz`, each file replaced whole. Images kept for the old events' peaks stay as they are."""
    directory = Path(directory)
    with np.load(directory / "scores.npz") as data:
        arrays = {key: data[key] for key in data.files}
    arrays["threshold"] = np.float64(threshold)
    with replacing(directory / "scores.npz", suffix=".npz") as staging:
        np.savez(staging, **arrays)
    write_text(directory / "events.json", json.dumps([asdict(e) for e in events], indent=1))


def load_video_scores(directory: Path, *, with_heatmaps: bool = True) -> VideoScores:
    directory = Path(directory)
    with np.load(directory / "scores.npz") as data:
        arrays = {key: data[key] for key in data.files}
    heatmaps = None
    heatmap_file = directory / "heatmaps.npy"
    if with_heatmaps and heatmap_file.exists():
        heatmaps = np.load(heatmap_file, mmap_mode="r")
    events = tuple(DetectedEvent(**e) for e in json.loads((directory / "events.json").read_text()))
    extras = {key: arrays[key] for key in REFERENCE_EXTRAS if key in arrays}
    if "reference_ids" in arrays:
        extras["reference_ids"] = [str(v) for v in arrays["reference_ids"]]
    return VideoScores(
        times=arrays["times"],
        frame_scores=arrays["frame_scores"],
        threshold=float(arrays["threshold"]),
        events=events,
        heatmaps=heatmaps,
        heatmap_scale=float(arrays["heatmap_scale"]),
        segment_scores=arrays.get("segment_scores"),
        segment_bounds=arrays.get("segment_bounds"),
        extras=extras,
    )


def load_reconstruction(directory: Path, index: int) -> np.ndarray | None:
    """The kept (S, S, 3) uint8 reconstruction of frame `index`, or None when that frame's was not kept."""
    path = Path(directory) / "reconstructions.npz"
    if not path.exists():
        return None
    with np.load(path) as data:
        where = np.flatnonzero(data["indices"] == index)
        return data["images"][where[0]] if len(where) else None


def load_comparison(directory: Path, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(today, reference warped into today's view), each (h, w, 3) uint8, of frame `index`, or None when that
    frame's comparison was not kept (or the detector keeps none)."""
    path = Path(directory) / "comparisons.npz"
    if not path.exists():
        return None
    with np.load(path) as data:
        where = np.flatnonzero(data["indices"] == index)
        return (data["today"][where[0]], data["reference"][where[0]]) if len(where) else None
