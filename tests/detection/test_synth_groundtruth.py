"""Ground truth files: per-frame labels, classes, areas, resized masks and intervals, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from detection.labels import frame_labels
from detection.synth.groundtruth import GroundTruthBuilder, groundtruth_path, load_groundtruth
from detection.types import Interval

CLASSES = ("boat", "person")


@pytest.fixture
def truth(tmp_path):
    """5 frames at 2 fps of 4x6: a boat (2x2 box) in frames 1-2, a person (1 pixel) in frames 2-3."""
    builder = GroundTruthBuilder(fps=2, size=(4, 6), class_names=CLASSES)
    boat = np.zeros((4, 6), bool)
    boat[0:2, 3:5] = True
    person = np.zeros((4, 6), bool)
    person[3, 0] = True
    for objects in ([], [("boat", boat)], [("boat", boat), ("person", person)], [("person", person)], []):
        builder.add_frame(objects)
    video = tmp_path / "day01" / "patrol.mp4"
    video.parent.mkdir()
    builder.build({"light_change_at": 1.5}).save(groundtruth_path(video))
    return load_groundtruth(video)


def test_it_lives_next_to_its_video_and_is_none_for_other_videos(tmp_path, truth):
    assert groundtruth_path(tmp_path / "day01" / "patrol.mp4") == tmp_path / "day01" / "patrol.gt.npz"
    assert load_groundtruth(tmp_path / "elsewhere.mp4") is None
    assert truth.frame_count == 5 and truth.size == (4, 6) and truth.notes == {"light_change_at": 1.5}


def test_labels_classes_and_areas_at_any_time(truth):
    times = [0.0, 0.5, 0.99, 1.0, 1.7, 2.4, 9.0, -1.0]
    assert truth.labels_at(times).tolist() == [False, True, True, True, True, False, False, False]
    assert truth.classes_at(times) == [set(), {"boat"}, {"boat"}, {"boat", "person"}, {"person"}, set(), set(), set()]
    assert truth.area_fraction_at([0.5, 1.0, 1.5]).tolist() == pytest.approx([4 / 24, 5 / 24, 1 / 24])


def test_masks_full_size_and_shrunk_keep_small_objects(truth):
    full = truth.masks_at([1.0])[0]
    assert full.sum() == 5 and full[3, 0] and full[0:2, 3:5].all()
    small = truth.masks_at([1.0, 0.0], size=(2, 3))
    assert small[0].tolist() == [[False, True, True], [True, False, False]]  # any pixel in a 2x2 cell marks it
    assert not small[1].any()
    assert truth.masks_at([1.0], size=(8, 12))[0].sum() == 20  # growing repeats pixels


def test_intervals_agree_with_the_frame_labels(truth):
    assert truth.intervals() == (Interval(0.5, 1.499, "boat"), Interval(1.0, 1.999, "person"))
    times = np.arange(0, 2.5, 0.25)
    assert np.array_equal(frame_labels(times, truth.intervals()), truth.labels_at(times))
