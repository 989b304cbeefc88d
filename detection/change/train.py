"""Training a CHANGE detector: build the reference index, learn the normal variation, fix the threshold.

1. The reference flights are the `train` items labelled normal. Each frame is stored (JPEG at the analysis
   size) with its time, pose (when every reference has telemetry), global descriptor, alignment keypoints and,
   when the config warps stored maps (`cnn_warp_max_angle` > 0), CNN feature map (both of the frame itself,
   as scoring computes today's: the leave-one-out pass compares each reference frame exactly as a frame of
   today would be compared).
2. Normal variation, leave-one-out: every reference frame is compared, exactly as a frame of today would be,
   with the other reference flights; what remains at each place (colour and CNN distances) is stored with the
   frame, and the mean over all places and frames is each branch's global scale. With a single reference
   flight there is nothing to leave out: the scales come from the validation normal frames and no place has
   its own variation (a warning says so).
3. Reviews: the frames of events an analyst dismissed on any other flight (its normal intervals) are normal
   observations of their place, so they join the index as reviewed flights (index.py), each frame with its
   place on the reference flights and its own distances to them as residuals. Today's frame at such a place
   is compared with them too, and a change dismissed there is explained by a frame that shows it. The
   detector's metadata (`extra["dismissed"]`, and the validation metrics) names the intervals added.
4. The threshold is the `false_alarm_quantile` of the validation normal frames' final scores: a fixed
   false-alarm rate, which transfers between flights better than the best validation F1. The frames are scored
   by the reference flights alone, before any lesson of the reviews: a lesson explains the changes an analyst
   dismissed and only ever lowers a frame's score (index.py, looks.py); it says nothing about how high a new
   flight's unexplained changes go (scored with the lessons, the validation normals they explain pulled the
   threshold down until a new flight's unexplained glint crossed it: BENCHMARKS.md, issue 23, sixth round).
   Dismissed frames that joined the index are left out (they were picked for scoring high). The same quantile
   of the single comparisons (before the persistence filter), as a ratio to the threshold, is kept
   (`extra["single_frame_ratio"]`): the level at which a live alert need not wait for the next comparison.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from detection.change import compare
from detection.change.comparator import GRID_WIDTH, Comparator
from detection.change.config import make_config
from detection.change.detector import ChangeDetector, poses_in_metres
from detection.change.features import analysis_frame, analysis_size, grid_for, jpeg_bytes, quantise_maps
from detection.change.index import ReferenceIndex
from detection.change.looks import MAX_EXPLAINED, Looks, from_features
from detection.errors import TrainingDataError
from detection.labels import frame_labels, frame_truth, record_frame_labels
from detection.registry import TrainingReport, TrainItem
from detection.thresholds import normal_median, pick_threshold
from detection.types import ProgressFn, no_progress


def read_poses(item: TrainItem):
    """The item's PoseTable, or None without a telemetry sidecar."""
    if item.record.telemetry is None:
        return None
    from detection.telemetry import read_telemetry

    return read_telemetry(item.record.telemetry)


CNN_CHUNK = 8  # reference frames per CNN pass while indexing


def build_index(references: list[TrainItem], config, progress: ProgressFn = no_progress, *,
                device: str | torch.device | None = None) -> ReferenceIndex:
    """The index of the reference flights, residuals still zero and scales one (see `learn_variation`)."""
    from detection.device import pick_device

    first = references[0].frames.frames
    size = analysis_size(first.shape[2], first.shape[1], config.analysis_width)
    pose_tables = [read_poses(item) for item in references]
    origin = None
    if all(p is not None and len(p) for p in pose_tables):
        origin = (float(pose_tables[0].latitude[0]), float(pose_tables[0].longitude[0]))
    comparator = Comparator(config, size, pick_device(device))
    flights = [(item, np.arange(len(item.frames.frames)), poses) for item, poses in zip(references, pose_tables)]
    return index_frames(flights, comparator, origin, progress)


def index_frames(flights: list, comparator: Comparator, origin: tuple[float, float] | None,
                 progress: ProgressFn = no_progress) -> ReferenceIndex:
    """The index of some frames of each of `flights` [(TrainItem, frame numbers, PoseTable or None)], one flight
    each, residuals still zero and scales one. Poses are NaN for a flight without telemetry or without `origin`."""
    from detection.change.timeline import frame_descriptors

    config, size = comparator.config, comparator.size
    flight_numbers, times, poses, descriptors, jpegs = [], [], [], [], []
    keypoints, cnn_codes, cnn_ranges = [], [], []
    for number, (item, chosen, pose_table) in enumerate(flights):
        frames = item.frames.frames
        chosen = np.asarray(chosen, np.int64)
        count = len(chosen)
        flight_numbers.append(np.full(count, number, np.int64))
        chosen_times = np.asarray(item.frames.times, np.float64)[chosen]
        times.append(chosen_times)
        if origin is not None and pose_table is not None and len(pose_table):
            poses.append(poses_in_metres(pose_table, chosen_times, origin))
        else:
            poses.append(np.full((count, 3), np.nan))
        descriptors.append(np.asarray(frame_descriptors(np.stack([np.asarray(frames[i]) for i in chosen])),
                                      np.float32))
        for first in range(0, count, CNN_CHUNK):
            chunk = [analysis_frame(np.asarray(frames[i]), size) for i in chosen[first : first + CNN_CHUNK]]
            for frame in chunk:
                jpegs.append(jpeg_bytes(frame, config.jpeg_quality))
                keypoints.append(comparator.keypoints(frame))
            if comparator.cnn is not None and config.cnn_warp_max_angle > 0:  # only warped maps need them stored
                for maps in comparator.cnn_maps(np.stack(chunk)):
                    codes, ranges = quantise_maps(maps)
                    cnn_codes.append(codes)
                    cnn_ranges.append(ranges)
        progress(0.2 * (number + 1) / len(flights), f"indexed reference flight {number + 1}/{len(flights)}")
    lengths = np.array([len(j) for j in jpegs], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    cells_w, cells_h = grid_for(size[0], size[1], GRID_WIDTH).cells
    count = int(offsets.size - 1)
    keypoint_counts = np.array([len(k.points) for k in keypoints], np.int64)
    return ReferenceIndex(
        keypoint_points=np.concatenate([k.points for k in keypoints]).astype(np.float32),
        keypoint_descriptors=np.concatenate([k.descriptors for k in keypoints]),
        keypoint_offsets=np.concatenate([[0], np.cumsum(keypoint_counts)]).astype(np.int64),
        keypoint_sizes=(tuple(keypoints[0].size), tuple(keypoints[0].work)),
        cnn_codes=np.stack(cnn_codes) if cnn_codes else None,
        cnn_ranges=np.stack(cnn_ranges) if cnn_ranges else None,
        reference_ids=[item.record.video_id or str(item.record.path) for item, _, _ in flights],
        flight=np.concatenate(flight_numbers), times=np.concatenate(times), poses=np.concatenate(poses),
        descriptors=np.concatenate(descriptors), jpeg_data=np.frombuffer(b"".join(jpegs), np.uint8).copy(),
        jpeg_offsets=offsets, residuals=np.zeros((count, 2, cells_h, cells_w), np.float16),
        scales=np.ones(2, np.float32), analysis_size=size, origin=origin,
    )


def learn_variation(detector: ChangeDetector, references: list[TrainItem], progress: ProgressFn) -> list[np.ndarray]:
    """Fill the index's leave-one-out residuals in place; returns the raw residual maps found (for the scales)."""
    index = detector.index
    found = []
    if len(references) < 2:
        return found
    for number, item in enumerate(references):
        members = index.flight_indices(number)
        results = detector.analyse(item.frames.frames, item.frames.times, read_poses(item), normalise=False,
                                   exclude_flight=number, frame_indices=members)
        for j, result in zip(members, results):
            if result.raw is None:
                continue
            found.append(result.raw)
            index.residuals[j] = residual_map(result.raw)
        progress(0.2 + 0.6 * (number + 1) / len(references), f"normal variation {number + 1}/{len(references)}")
    return found


def residual_map(raw: np.ndarray) -> np.ndarray:
    """(2, gh, gw) float16: a frame's leave-one-out distances as the index stores them, smoothed; a cell that was
    not compared (outside the other flights' views, or on the frame's edge ring) takes its nearest compared
    cell's value, a branch compared nowhere 0."""
    import cv2
    from scipy.ndimage import distance_transform_edt

    filled = np.array(raw, dtype=np.float32, copy=True)
    for branch in filled:
        missing = np.isnan(branch)
        if missing.all():
            branch[:] = 0.0
        elif missing.any():
            _, (rows, cols) = distance_transform_edt(missing, return_indices=True)
            branch[:] = branch[rows, cols]
    return np.stack([cv2.GaussianBlur(b, (0, 0), 1.0) for b in filled]).astype(np.float16)


def dismissed_frames(item: TrainItem) -> np.ndarray:
    """The frame numbers of `item` inside its dismissed events (normal intervals) and no anomalous interval."""
    times = item.frames.times
    inside = frame_labels(times, item.record.normal_intervals) & ~frame_labels(times, item.record.intervals)
    return np.flatnonzero(inside)


def reviewed_flights(detector: ChangeDetector, items: list[TrainItem],
                     progress: ProgressFn = no_progress) -> list[tuple[TrainItem, ReferenceIndex, np.ndarray]]:
    """[(item, index of its dismissed frames, their anchors)] for each of `items` with dismissed frames that
    some reference frame shows: the frames an analyst called normal, indexed as a reference flight's are, with
    their place on each reference flight (`ChangeDetector.place_matches` on the whole flight, so that matching
    by appearance follows its route) and, as residuals, their own distances to the reference flights (what an
    indexed frame's residuals always are: how it differs from the other flights at its place)."""
    found = []
    index = detector.index
    for number, item in enumerate(items):
        chosen = dismissed_frames(item)
        if not len(chosen):
            continue
        poses = read_poses(item)
        matches = detector.place_matches(item.frames.frames, item.frames.times, poses)[chosen]
        placed = (matches >= 0).any(axis=1)
        chosen, matches = chosen[placed], matches[placed]
        if not len(chosen):
            continue
        part = index_frames([(item, chosen, poses)], detector.comparator, index.origin)
        for row, (frame_number, candidates) in enumerate(zip(chosen, matches)):
            today = detector.analysis_frames(item.frames.frames, int(frame_number))
            references = [(int(j), detector.reference_frame(int(j))) for j in candidates[: detector.config.candidates]
                          if j >= 0]
            result = detector.comparator.compare_frame(today, references)
            if result.raw is not None:
                part.residuals[row] = residual_map(result.raw)
        found.append((item, part, index.per_flight(matches)))
        progress((number + 1) / len(items), f"dismissed frames of {number + 1}/{len(items)} reviewed flights")
    return found


def learn_looks(judge, items: list[TrainItem], progress: ProgressFn = no_progress) -> Looks | None:
    """What the changes an analyst dismissed looked like, and what the labelled anomalies looked like
    (looks.py): today's CNN features over each change of a dismissed frame at least half as strong as its
    strongest (an analyst who dismisses the frame's event says none of them matters), and over the strongest
    change of each anomalous frame; compared by `judge(item)` (a detector that has not learned `item`'s own
    dismissed frames, so their change still shows)."""
    dismissed, confirmed = [], []
    for number, item in enumerate(items):
        times = item.frames.times
        anomalous = frame_labels(times, item.record.intervals)
        events = [np.flatnonzero(frame_labels(times, (interval,)) & ~anomalous)
                  for interval in item.record.normal_intervals]
        wanted = [(event, int(i)) for event, chosen in enumerate(events) for i in chosen]
        wanted += [(-1, int(i)) for i in np.flatnonzero(anomalous)]
        if not wanted:
            continue
        detector = judge(item)
        chosen, no_reference = detector.candidates(item.frames.frames, times, read_poses(item))
        comparator, index = detector.comparator, detector.index
        for event, i in wanted:
            if no_reference[i]:
                continue
            today = detector.analysis_frames(item.frames.frames, i)
            references = [(int(j), detector.reference_frame(int(j))) for j in chosen[i] if j >= 0]
            result = comparator.compare_frame(today, references, residuals=index.residuals,
                                              scales=index.scales.astype(np.float64), keep_features=True)
            features = result.features
            if result.map is None or features is None or result.score <= 0:
                continue
            if event < 0:
                confirmed.append((number, features[compare.change_region(result.map, *result.peak,
                                                                         comparator.grid.cells)]))
                continue
            for region in peeled_changes(result.map, comparator.grid.cells):
                dismissed.append((number, event, len(dismissed), features[region]))
        progress((number + 1) / len(items), f"looks of reviewed changes on {number + 1}/{len(items)} flights")
    return from_features(dismissed, confirmed)


def peeled_changes(change_map: np.ndarray, cells: tuple[int, int]) -> list[np.ndarray]:
    """The (gh, gw) bool regions of a frame's changes at least half as strong as its strongest, strongest
    first (compare.change_region around each peak in turn, each region cleared before the next), at most
    looks.MAX_EXPLAINED."""
    remaining = np.array(change_map, dtype=np.float32, copy=True)
    top = float(remaining.max()) if remaining.size else 0.0
    regions = []
    while top > 0 and len(regions) < MAX_EXPLAINED:
        y, x = np.unravel_index(int(np.argmax(remaining)), remaining.shape)
        if remaining[y, x] < 0.5 * top:
            break
        region = compare.change_region(remaining, int(x), int(y), cells)
        regions.append(region)
        remaining[region] = 0.0
    return regions


def dismissed_summary(reviewed: list[tuple[TrainItem, ReferenceIndex, np.ndarray]]) -> list[dict]:
    """What the detector's metadata records of the dismissed intervals indexed: per video, each interval and how
    many of its frames joined the index."""
    summary = []
    for item, part, _ in reviewed:
        intervals = []
        for interval in item.record.normal_intervals:
            frames = int(np.sum((part.times >= interval.start) & (part.times <= interval.end)))
            if frames:
                intervals.append({"start": float(interval.start), "end": float(interval.end), "frames": frames})
        summary.append({"video": item.record.video_id or str(item.record.path), "intervals": intervals})
    return summary


def branch_scales(raw_maps: list[np.ndarray]) -> np.ndarray:
    """(2,) mean distance per branch over every covered place (1 for a branch with nothing measured)."""
    if not raw_maps:
        return np.ones(2, np.float32)
    branches = np.stack(raw_maps).transpose(1, 0, 2, 3).reshape(2, -1)
    means = np.array([branch[np.isfinite(branch)].mean() if np.isfinite(branch).any() else np.nan
                      for branch in branches])  # a branch that is off (the colour one, by default) is NaN
    return np.where(np.isfinite(means) & (means > 0), means, 1.0).astype(np.float32)


def train_from_items(
    train: list[TrainItem],
    val: list[TrainItem],
    *,
    overrides: dict | None = None,
    progress: ProgressFn = no_progress,
    seed: int = 0,
) -> tuple[ChangeDetector, TrainingReport]:
    """Build a CHANGE detector for detection.registry (seed unused: nothing here is random)."""
    started = time.perf_counter()
    overrides = dict(overrides or {})
    device = overrides.pop("device", None) or None  # a run-time choice: not part of the saved config
    config = make_config(overrides)
    references = [item for item in train if item.record.label == "normal" and len(item.frames.frames)]
    if not references:
        raise TrainingDataError(
            f"none of the {len(train)} training videos is labelled normal: the CHANGE detector compares with "
            "normal reference flights of the same route"
        )
    warnings = []
    torch.set_grad_enabled(False)
    try:
        index = build_index(references, config, progress, device=device)
        detector = ChangeDetector(config, index, 0.0, device=device)
        raw_maps = learn_variation(detector, references, progress)
        if not raw_maps:
            warnings.append("one reference flight: no normal variation per place could be learned (it needs two "
                            "or more); the global scales come from the validation normal frames")
            for item in val:
                labels = record_frame_labels(item.frames.times, item.record)
                results = detector.analyse(item.frames.frames, item.frames.times, read_poses(item), normalise=False)
                raw_maps += [r.raw for r, bad in zip(results, labels if labels is not None else [True] * len(results))
                             if r.raw is not None and not bad]
        index.scales = branch_scales(raw_maps)
        others = [item for item in train + val if not any(item is r for r in references)]
        reviewed = reviewed_flights(detector, others, lambda done, text: progress(0.8 + 0.1 * done, text))
        base, unreviewed = index, detector  # the reference flights alone
        if reviewed:
            index = base.with_reviewed([(part, anchors) for _, part, anchors in reviewed])
            detector = ChangeDetector(config, index, 0.0, device=device,
                                      extra={"dismissed": dismissed_summary(reviewed)})

        def unlearned(item: TrainItem) -> ChangeDetector:
            """The detector without `item`'s own dismissed frames in the index (leave-one-out, as for the
            references) and without looks."""
            if not any(item is own for own, _, _ in reviewed):
                return detector
            kept = [(part, anchors) for own, part, anchors in reviewed if own is not item]
            return ChangeDetector(config, base.with_reviewed(kept), 0.0, device=device)

        looks = learn_looks(unlearned, others, lambda done, text: progress(0.9 + 0.05 * done, text)) if reviewed \
            else None
        if looks is not None:
            detector = ChangeDetector(config, index, 0.0, device=device, extra=detector.extra, looks=looks)

        def indexed(item: TrainItem) -> np.ndarray:
            """(N,) bool: the item's frames that joined the index (they taught their place, see `_threshold`)."""
            times = [part.times for own, part, _ in reviewed if own is item]
            return np.isin(np.asarray(item.frames.times, np.float64), np.concatenate(times) if times else [])

        # Before any lesson of the reviews (step 4 above); the validation AUC is of the same scoring.
        threshold, metrics = _threshold(unreviewed, val, config, warnings, indexed)
        if reviewed and "threshold_method" in metrics:
            metrics["threshold_method"] += ", scored by the reference flights alone (before the reviews' lessons)"
        detector.threshold = threshold
        if "single_frame_ratio" in metrics:
            detector.extra["single_frame_ratio"] = metrics["single_frame_ratio"]
    finally:
        torch.set_grad_enabled(True)
    progress(1.0, "done")
    metrics["index_bytes"] = index.size_bytes()
    metrics["reference_frames"] = int(np.sum(index.flight < index.reference_flights))
    if reviewed:
        metrics["dismissed_frames"] = len(index) - metrics["reference_frames"]
        metrics["dismissed_intervals"] = detector.extra["dismissed"]
    if detector.looks is not None:
        metrics["dismissed_looks"] = len(detector.looks)
        metrics["confirmed_looks"] = len(detector.looks.confirmed)
        metrics["looks_radius"] = round(detector.looks.radius, 4)
    return detector, TrainingReport(validation_metrics=metrics, train_seconds=time.perf_counter() - started,
                                    warnings=tuple(warnings))


def _threshold(judge: ChangeDetector, val: list[TrainItem], config, warnings: list[str], indexed) -> tuple[float, dict]:
    """(threshold, metrics) from the validation items scored by `judge`. The frames that
    joined the index (`indexed(item)`, dismissed events) are left out: a dismissed span is the worst of its
    flight's normal frames, picked because it scored high, so counting it (and none of the flight's other,
    unlabelled frames) would set the false-alarm quantile at the dismissed false alarm's own level; the index
    already teaches its place."""
    from detection.evaluation.metrics import roc_auc

    scores, raws, labels = [], [], []
    for item in val:
        truth = frame_truth(item.frames.times, item.record)
        if truth is None:
            warnings.append(f"left out of the threshold choice (frame labels unknown): {item.record.video_id}")
            continue
        frame_labels, known = truth  # a flight without labels counts only where events were dismissed
        known = known & ~indexed(item)
        if not known.any():
            continue
        result = judge.score_frames(item.frames.frames, item.frames.times, poses=read_poses(item))
        scores.append(result.frame_scores[known])
        raws.append(np.asarray(result.extras["raw_scores"], np.float64)[known])
        labels.append(frame_labels[known])
    if not scores or not any((~lab).any() for lab in labels):
        warnings.append("no validation normal frames: the threshold is the reference flights' own highest score")
        return float("inf"), {}
    scores, raws, labels = np.concatenate(scores), np.concatenate(raws), np.concatenate(labels)
    choice = pick_threshold(scores, labels, quantile=config.false_alarm_quantile, method="quantile")
    metrics = {"threshold_method": f"quantile {config.false_alarm_quantile} of validation normal frames",
               "val_normal_median": normal_median(scores, labels)}
    single = pick_threshold(raws, labels, quantile=config.false_alarm_quantile, method="quantile").value
    if choice.value > 0 and np.isfinite(single):
        # The same false-alarm quantile of the single comparisons (before the persistence filter), as a ratio
        # to the threshold so that an admin's threshold moves it too: a live alert need not wait for the next
        # comparison when one comparison alone is as rare among normal frames (detection.live.change).
        metrics["single_frame_ratio"] = round(max(1.0, float(single) / float(choice.value)), 4)
    auc = roc_auc(labels, scores)
    if auc is not None:
        metrics["val_frame_auc"] = round(float(auc), 4)
    return choice.value, metrics
