"""CHANGE learns what dismissed changes looked like: a change that stays put in the frame while the ground moves
(sun glint, lens dirt) is dismissed on one flight, and the next flight's glint, at another place in its frame
and on the ground, is explained by its look; a new object still alarms; a look that an analyst confirmed is
never learned away."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detection.change.detector import ChangeDetector
from detection.change.looks import Looks, from_features
from detection.change.train import train_from_items
from detection.detector_file import load_detector
from detection.errors import DetectorFileError
from detection.registry import TrainItem
from detection.telemetry import PoseTable
from detection.types import Interval, SampledFrames, VideoRecord
from tests.detection.change_scenes import pan_east, pan_east_poses, textured_world, water

SIZE = (160, 96)  # (w, h)
STEP = 24  # world pixels (= metres) the camera moves per frame
FRAMES = 14
WATER = (200, 240)  # world rows of open water: the frame's top 40 rows, where the sun glints
GLINT_FRAMES = range(2, 10)
GLINT_A = (12, 4, 40, 32)  # x, y, w, h in the frame: where flight A's glint sits (it moves with the camera)
GLINT_B = (104, 4, 40, 32)  # flight B's, elsewhere in its frame (another day, another sun)
NEW = (560, 250, 12, 12)  # a bright square on the ground, only on flight B (frame rows 50-62: below the glint)


def glint(frame: np.ndarray, box, rng) -> None:
    """Sparkles on the water: a random eighth of the box's pixels turned almost white, anew in every frame."""
    x, y, w, h = box
    sparkle = rng.random((h, w)) < 0.125
    frame[y : y + h, x : x + w][sparkle] = 248


def flight(world, tmp_path, name: str, *, seed: int, glint_box=None, new=False, label="normal",
           normal_intervals=()) -> TrainItem:
    rng = np.random.default_rng(seed)
    scene = world.astype(np.float32)
    scene[WATER[0] : WATER[1]] = water(seed, (scene.shape[1], WATER[1] - WATER[0]))  # its own waves every day
    scene *= rng.uniform(0.9, 1.1)
    if new:
        x, y, w, h = NEW
        scene[y : y + h, x : x + w] = (250, 240, 90)
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    frames = pan_east(scene, rng, FRAMES, SIZE, STEP)
    for i in GLINT_FRAMES if glint_box is not None else ():
        glint(frames[i], glint_box, rng)
    times = np.arange(FRAMES) * 0.5
    sidecar = pan_east_poses(tmp_path / f"{name}.npz", times, SIZE, STEP)
    record = VideoRecord(tmp_path / f"{name}.mp4", label=label, video_id=name, telemetry=sidecar,
                         normal_intervals=tuple(normal_intervals))
    return TrainItem(SampledFrames(np.stack(frames), times), record)


def sees_new(frame: int) -> bool:
    x, _, w, _ = NEW
    left = 200 + STEP * frame
    return left + 0.1 * SIZE[0] <= x and x + w <= left + 0.9 * SIZE[0]


def in_view(box, frame: int) -> bool:
    """Whether any part of ground `box` is in the frame."""
    x, _, w, _ = box
    left = 200 + STEP * frame
    return x + w > left and x < left + SIZE[0]


def scores_of(detector, item):
    return detector.score_frames(item.frames.frames, item.frames.times,
                                 poses=PoseTable.load(item.record.telemetry)).frame_scores


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(the detector trained with the reviews, its report, flight B, B's scores by it and by the same detector
    without its looks (its reviews' place-bound lesson alone), tmp_path)."""
    tmp_path = tmp_path_factory.mktemp("looks")
    world = textured_world(seed=5, size=900)
    references = [flight(world, tmp_path, f"ref{n}", seed=n) for n in range(3)]
    held = flight(world, tmp_path, "held", seed=9)
    # Flight A: nobody labelled it; two events over its glint were dismissed.
    reviewed = flight(world, tmp_path, "flight-a", seed=11, glint_box=GLINT_A, label="", normal_intervals=[
        Interval(0.5 * GLINT_FRAMES[0], 0.5 * (GLINT_FRAMES[0] + 3)), Interval(0.5 * (GLINT_FRAMES[0] + 4),
                                                                             0.5 * GLINT_FRAMES[-1])])
    torch.manual_seed(0)
    after, report = train_from_items(references, [held, reviewed], overrides={"persistence": 1, "device": "cpu"})
    today = flight(world, tmp_path, "flight-b", seed=12, glint_box=GLINT_B, new=True)
    place_only = ChangeDetector(after.config, after.index, after.threshold, looks=None)
    return after, report, today, scores_of(after, today), scores_of(place_only, today), tmp_path


def test_another_flights_glint_elsewhere_in_the_frame_is_explained_by_its_look(trained):
    after, report, _, second, place_only, _ = trained
    assert after.looks is not None and report.validation_metrics["dismissed_looks"] == len(after.looks) > 0
    assert np.isfinite(after.looks.radius) and after.looks.radius > 0
    glint_only = [i for i in GLINT_FRAMES if not in_view(NEW, i)]
    # the reviewed flight's frames in the index teach the places on the ground where A's glint was, not B's:
    # without the looks, B's glint is an alarm
    assert np.median(place_only[glint_only]) > after.threshold
    # its look explains most of B's glint: what is left is the weaker fringe, where glint and water mix
    assert np.median(second[glint_only] / place_only[glint_only]) < 0.25
    # explaining a change never raises another's score (the frame keeps its scale from before)
    assert np.all(second <= place_only + 1e-3)


def test_a_new_object_still_alarms(trained):
    after, _, _, second, place_only, _ = trained
    seen = [i for i in range(FRAMES) if sees_new(i)]
    assert second[seen].max() > after.threshold
    assert second[seen].max() > 0.8 * place_only[seen].max()


def test_the_looks_survive_saving_and_loading_and_a_damaged_set_is_refused(trained):
    after, _, today, second, _, tmp_path = trained
    after.save(tmp_path / "after.pt")
    loaded = load_detector(tmp_path / "after.pt")
    assert loaded.looks is not None and len(loaded.looks) == len(after.looks)
    np.testing.assert_allclose(scores_of(loaded, today), second, rtol=1e-4, atol=1e-4)
    state, extra = after.looks.to_payload()
    state["looks.dismissed_sources"] = state["looks.dismissed_sources"][:-1]
    with pytest.raises(DetectorFileError, match="dismissed looks have shape"):
        Looks.from_payload(state, extra, channels=None)
    state, extra = after.looks.to_payload()
    with pytest.raises(DetectorFileError, match="channels"):
        Looks.from_payload(state, extra, channels=state["looks.dismissed"].shape[1] + 1)


def test_a_look_nearer_to_a_confirmed_one_is_not_explained():
    rng = np.random.default_rng(0)
    glints = [rng.normal(0, 0.1, (20, 4)).astype(np.float32) + np.float32([5, 0, 0, 0]) for _ in range(2)]
    nudge = np.float32([0, 0, 0.001, 0])
    boat = glints[1][:3] + nudge  # a confirmed anomaly that looked almost exactly like some of the glint
    looks = from_features([(0, 0, 3, glints[0]), (0, 1, 7, glints[1])], [(1, boat)])
    assert 0 < looks.radius < 0.5  # how far one dismissed event's looks lie from the other's
    assert looks.explains(glints[0][:5])
    assert looks.explains(glints[0][:5] + 0.5 * looks.radius / 2)  # within the radius
    assert not looks.explains(glints[1][:3] + 2 * nudge)  # nearer the confirmed boat than any glint
    assert not looks.explains(np.float32([[0, 0, 5, 0], [0, 0, 5, 0.1]]))  # like neither
    assert not looks.explains(np.zeros((0, 4), np.float32))
    assert list(looks.dismissed_sources) == [0] * 40 and list(looks.confirmed_sources) == [1] * 3


def test_one_dismissed_frame_says_nothing_about_how_its_kind_repeats():
    assert from_features([(0, 0, 3, np.ones((5, 4), np.float32))], []) is None
    assert from_features([], [(1, np.ones((5, 4), np.float32))]) is None


def test_the_reviews_never_move_the_threshold(tmp_path):
    """A validation normal flight glints too, and flight A's dismissed glint teaches a look that explains it.
    Scored with that lesson, the validation flight would pull the threshold down to where a new flight's glint
    that no look explains crosses it; the threshold is chosen before the lessons, which only lower scores."""
    world = textured_world(seed=5, size=900)
    references = [flight(world, tmp_path, f"ref{n}", seed=n) for n in range(3)]
    held = flight(world, tmp_path, "held", seed=9, glint_box=GLINT_B)  # labelled normal, glinting
    reviewed = flight(world, tmp_path, "flight-a", seed=11, glint_box=GLINT_A, label="", normal_intervals=[
        Interval(0.5 * GLINT_FRAMES[0], 0.5 * GLINT_FRAMES[-1])])
    overrides = {"persistence": 1, "device": "cpu"}
    torch.manual_seed(0)
    unreviewed, _ = train_from_items(references, [held], overrides=overrides)
    after, report = train_from_items(references, [held, reviewed], overrides=overrides)
    assert report.validation_metrics["dismissed_looks"] > 0
    glinting = list(GLINT_FRAMES)
    plain, explained = scores_of(unreviewed, held), scores_of(after, held)
    assert explained[glinting].max() < 0.5 * plain[glinting].max()  # the lesson explains the held flight's glint
    assert np.all(explained <= plain + 1e-4)  # and raises no frame
    assert after.threshold == pytest.approx(unreviewed.threshold, rel=1e-5)
    assert "before the reviews' lessons" in report.validation_metrics["threshold_method"]
