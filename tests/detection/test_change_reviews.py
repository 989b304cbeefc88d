"""CHANGE learns from dismissals: the frames of a dismissed event join the reference index as a reviewed flight,
so the same change at the same place on a later flight finds a candidate that shows it and scores low, while a
new change elsewhere still scores high; with telemetry and without (places matched by appearance)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detection.change.train import train_from_items
from detection.detector_file import load_detector
from detection.registry import TrainItem
from detection.telemetry import PoseTable
from detection.types import Interval, SampledFrames, VideoRecord
from tests.detection.change_scenes import pan_east, pan_east_poses, textured_world

SIZE = (160, 96)  # (w, h)
STEP = 24  # world pixels (= metres) the camera moves per frame
FRAMES = 14
DISMISSED = (250, 240, 26, 18)  # x, y, w, h: a pale shape at place P (frames 0-3 see it); dismissed on flight A
NEW = (520, 236, 12, 12)  # a bright square at place Q (frames 7-13 see it), only on flight B


def flight(world, tmp_path, name: str, *, seed: int, dismissed=False, new=False, telemetry=True, label="normal",
           normal_intervals=()) -> TrainItem:
    """One flight east over `world` (1 px = 1 m) in another day's light, with a .npz pose sidecar or none."""
    rng = np.random.default_rng(seed)
    scene = world.astype(np.float32) * rng.uniform(0.9, 1.1)
    if dismissed:
        x, y, w, h = DISMISSED
        scene[y : y + h, x : x + w] = (215, 205, 185)
    if new:
        x, y, w, h = NEW
        scene[y : y + h, x : x + w] = (250, 240, 90)
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    frames = pan_east(scene, rng, FRAMES, SIZE, STEP)
    times = np.arange(FRAMES) * 0.5
    sidecar = pan_east_poses(tmp_path / f"{name}.npz", times, SIZE, STEP) if telemetry else None
    record = VideoRecord(tmp_path / f"{name}.mp4", label=label, video_id=name, telemetry=sidecar,
                         normal_intervals=tuple(normal_intervals))
    return TrainItem(SampledFrames(np.stack(frames), times), record)


def sees(box, frame: int) -> bool:
    x, _, w, _ = box
    left = 200 + STEP * frame
    return left + 0.1 * SIZE[0] <= x and x + w <= left + 0.9 * SIZE[0]


def scores_of(detector, item):
    poses = None if item.record.telemetry is None else PoseTable.load(item.record.telemetry)
    return detector.score_frames(item.frames.frames, item.frames.times, poses=poses).frame_scores


@pytest.fixture(scope="module", params=[True, False], ids=["telemetry", "by-appearance"])
def trained(request, tmp_path_factory):
    telemetry = request.param
    tmp_path = tmp_path_factory.mktemp("reviews")
    world = textured_world(seed=5, size=900)
    references = [flight(world, tmp_path, f"ref{n}", seed=n, telemetry=telemetry) for n in range(3)]
    held = flight(world, tmp_path, "held", seed=9, telemetry=telemetry)
    place = [i for i in range(FRAMES) if sees(DISMISSED, i)]
    # Flight A: nobody labelled it; its event at P was dismissed (the interval covers the frames that see P).
    reviewed = flight(world, tmp_path, "flight-a", seed=11, dismissed=True, telemetry=telemetry, label="",
                      normal_intervals=[Interval(0.5 * place[0], 0.5 * place[-1])])
    overrides = {"persistence": 1, "device": "cpu"}
    torch.manual_seed(0)
    before, _ = train_from_items(references, [held], overrides=overrides)
    after, report = train_from_items(references, [held, reviewed], overrides=overrides)
    today = flight(world, tmp_path, "flight-b", seed=12, dismissed=True, new=True, telemetry=telemetry)
    return before, after, report, today, tmp_path


def test_the_dismissed_frames_join_the_index_as_a_reviewed_flight_named_in_the_metadata(trained):
    before, after, report, _, _ = trained
    place = [i for i in range(FRAMES) if sees(DISMISSED, i)]
    assert len(after.index) == len(before.index) + len(place)
    assert after.index.reference_ids == [*before.index.reference_ids, "flight-a"]
    assert after.index.reference_flights == 3
    assert after.extra["dismissed"] == [{"video": "flight-a", "intervals": [
        {"start": 0.5 * place[0], "end": 0.5 * place[-1], "frames": len(place)}]}]
    assert report.validation_metrics["dismissed_frames"] == len(place)
    # each dismissed frame is placed on every reference flight, at the frame that shows its place
    anchors = after.index.anchors[after.index.flight == 3]
    expected = np.array(place)[:, None] + np.array([0, FRAMES, 2 * FRAMES])[None, :]
    assert np.all(np.abs(anchors - expected) <= 1)


def test_the_same_change_at_the_same_place_scores_lower_and_a_new_one_elsewhere_still_high(trained):
    before, after, _, today, _ = trained
    at_place = [i for i in range(FRAMES) if sees(DISMISSED, i)]
    elsewhere = [i for i in range(FRAMES) if sees(NEW, i)]
    first, second = scores_of(before, today), scores_of(after, today)
    assert first[at_place].max() > before.threshold  # before the review, the dismissed change is an alarm
    assert second[at_place].max() < 0.5 * first[at_place].max()
    assert second[at_place].max() < after.threshold
    assert second[elsewhere].max() > after.threshold
    assert second[elsewhere].max() > 0.8 * first[elsewhere].max()


def test_the_reviewed_flight_survives_saving_and_loading(trained):
    _, after, _, today, tmp_path = trained
    after.save(tmp_path / "after.pt")
    loaded = load_detector(tmp_path / "after.pt")
    assert loaded.index.reference_flights == 3 and loaded.extra["dismissed"] == after.extra["dismissed"]
    np.testing.assert_allclose(scores_of(loaded, today), scores_of(after, today), rtol=1e-4, atol=1e-4)


def test_a_reviewed_frame_lowers_the_map_but_never_raises_another_change(trained):
    """Today's flight is the reviewed flight again, with a new object at the dismissed place's frames: its
    reviewed frames match the rest of today's frame almost exactly. They lower the map where they explain (the
    dismissed change), while the frame's scale stays the one the reference flights give, so no cell scores
    higher than with the reference flights alone, and the new object still stands out."""
    _, after, _, _, tmp_path = trained
    world = textured_world(seed=5, size=900)
    telemetry = after.index.has_poses
    again = flight(world, tmp_path, "flight-a-again", seed=11, dismissed=True, telemetry=telemetry)
    frames = np.array(again.frames.frames, copy=True)
    frames[:, 60:72, 12:24] = (250, 240, 90)  # a bright square, away from the dismissed shape
    poses = None if again.record.telemetry is None else PoseTable.load(again.record.telemetry)
    chosen, _ = after.candidates(frames, again.frames.times, poses)
    index, comparator = after.index, after.comparator
    checked = 0
    for i in (i for i in range(FRAMES) if sees(DISMISSED, i)):
        everyone = [(int(j), after.reference_frame(int(j))) for j in chosen[i] if j >= 0]
        regular = [(j, frame) for j, frame in everyone if index.flight[j] < index.reference_flights]
        if len(regular) == len(everyone) or not regular:
            continue
        today = after.analysis_frames(frames, i)
        options = {"residuals": index.residuals, "scales": index.scales.astype(np.float64)}
        with_reviewed = comparator.compare_frame(today, everyone, **options)
        references_only = comparator.compare_frame(today, regular, **options)
        assert np.all(with_reviewed.map <= references_only.map + 1e-4)
        x, y = with_reviewed.peak
        assert 12 <= (x + 0.5) * SIZE[0] / with_reviewed.map.shape[1] <= 24 + 8  # the new object is the peak
        checked += 1
    assert checked >= 2
