"""Object-level recall: object-intervals from ground truth, per native pixel size and per class, and false
events per flight hour, against cases worked out by hand."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from detection.evaluation.groundtruth import GroundTruthCache
from detection.evaluation.objects import ObjectInterval, object_intervals
from detection.evaluation.summary import ScoredVideo, summarise
from detection.synth.groundtruth import GroundTruthBuilder
from detection.types import DetectedEvent, Interval, VideoRecord

SIZE = (40, 60)  # (h, w) of the hand-built ground truth


def _square(top: int, left: int, side: int) -> np.ndarray:
    mask = np.zeros(SIZE, dtype=bool)
    mask[top : top + side, left : left + side] = True
    return mask


@pytest.fixture
def two_boats():
    """8 frames at 4 fps. Boat A (4x4, then 6x6 from frame 2) drifts right by 2 px a frame through frames 0-5;
    boat B (2x2) sits at the far side in frames 1-2, leaves, and comes back in frames 5-6; a person (1 px)
    is in frame 7 only."""
    builder = GroundTruthBuilder(fps=4, size=SIZE, class_names=("boat", "person"))
    for frame in range(8):
        objects = []
        if frame <= 5:
            objects.append(("boat", _square(5, 2 * frame, 4 if frame < 2 else 6)))
        if frame in (1, 2, 5, 6):
            objects.append(("boat", _square(30, 50, 2)))
        if frame == 7:
            objects.append(("person", _square(0, 0, 1)))
        builder.add_frame(objects)
    return builder.build()


def test_same_class_objects_are_told_apart_and_a_return_is_a_new_object(two_boats):
    assert object_intervals(two_boats) == (
        ObjectInterval(0.0, 1.499, "boat", 6.0),  # A: areas 16, 16, 36, 36, 36, 36 -> median 36
        ObjectInterval(0.25, 0.749, "boat", 2.0),  # B, first visit
        ObjectInterval(1.25, 1.749, "boat", 2.0),  # B again after a gap: its own object-interval
        ObjectInterval(1.75, 1.999, "person", 1.0),
    )


def test_sizes_are_scaled_to_the_native_resolution(two_boats):
    doubled = object_intervals(two_boats, native_size=(80, 120))
    assert [o.size_px for o in doubled] == [12.0, 4.0, 4.0, 2.0]


def test_object_ids_when_the_ground_truth_carries_them(two_boats):
    # ids say boat B's two visits are the same object: still two object-intervals, as it left the view
    ids = np.where(np.asarray(two_boats.object_box)[:, 0] == 50, 7, 3)
    ids[np.asarray(two_boats.object_class) == 1] = 9
    with_ids = SimpleNamespace(**{k: getattr(two_boats, k) for k in two_boats.__dataclass_fields__}, object_id=ids)
    with_ids.frame_count = two_boats.frame_count
    assert object_intervals(with_ids) == object_intervals(two_boats)


def test_a_sharp_turn_does_not_split_an_object():
    builder = GroundTruthBuilder(fps=1, size=SIZE, class_names=("boat",))
    builder.add_frame([("boat", _square(0, 0, 2))])
    builder.add_frame([("boat", _square(38, 58, 2))])  # the camera turned: the one boat, across the frame
    assert object_intervals(builder.build()) == (ObjectInterval(0.0, 1.999, "boat", 2.0),)


def test_each_of_two_boats_in_view_continues_the_nearer_one():
    """Boat A (2x2, left) in frames 0-2 and boat B (4x4, right) in frames 1-3, both drifting down."""
    builder = GroundTruthBuilder(fps=1, size=SIZE, class_names=("boat",))
    for frame in range(4):
        a = [("boat", _square(frame, 0, 2))] if frame <= 2 else []
        b = [("boat", _square(frame, 50, 4))] if frame >= 1 else []
        builder.add_frame(b + a)  # listed in either order
    assert object_intervals(builder.build()) == (
        ObjectInterval(0.0, 2.999, "boat", 2.0),
        ObjectInterval(1.0, 3.999, "boat", 4.0),
    )


def test_the_cache_falls_back_to_intervals_and_to_the_generated_size(two_boats):
    anomalous = VideoRecord("x.mp4", "anomalous", "test", (Interval(1, 2, "car"), Interval(3, 4)))
    cache = GroundTruthCache(loader=lambda path: None, prober=lambda path: None)
    assert cache.objects(anomalous) == (ObjectInterval(1, 2, "car"), ObjectInterval(3, 4, "unnamed"))
    assert cache.objects(VideoRecord("n.mp4", "normal", "test")) == ()
    assert cache.duration(anomalous) is None
    generated = GroundTruthCache(loader=lambda path: two_boats, prober=lambda path: None)
    assert generated.objects(anomalous)[0].size_px == 6.0 and generated.duration(anomalous) == 2.0
    decoded = GroundTruthCache(loader=lambda path: two_boats, prober=lambda path: ((80, 120), 2.5))
    assert decoded.objects(anomalous)[0].size_px == 12.0 and decoded.duration(anomalous) == 2.5


def _scored(video_id, objects, events, seconds, anomalous=True):
    times = np.array([0.0, 0.5])
    return ScoredVideo(
        video_id, anomalous, times, np.array([0.1, 0.2]), np.array([anomalous, anomalous]),
        intervals=tuple(Interval(o.start, o.end, o.anomaly_class) for o in objects), events=tuple(events),
        objects=tuple(objects), seconds=seconds,
    )


def test_recall_per_native_size_and_class_and_false_events_per_flight_hour():
    hit, flag = DetectedEvent(100, 101, 100, 1.0), DetectedEvent(500, 501, 500, 1.0)
    objects = [
        ObjectInterval(100, 110, "boat", 10.0),  # <16, found
        ObjectInterval(200, 210, "boat", 16.0),  # 16-32 (its low edge), missed
        ObjectInterval(95, 100, "person", 40.0),  # 32-64, found (the event starts as it ends)
        ObjectInterval(300, 310, "vanished", 63.9),  # 32-64, missed
        ObjectInterval(99, 130, "smoke", 128.0),  # >128, found
    ]
    videos = [
        _scored("a", objects, [hit, flag], seconds=1500.0),  # `flag` overlaps nothing: one false event
        _scored("n", [], [flag, flag], seconds=2100.0, anomalous=False),  # two more
    ]
    entry = summarise("test", videos, 0.5, train_seconds=0.0, score_seconds=1.0)
    assert entry["object_recall"] == {"objects": 5, "found": 3, "recall": 0.6, "sized_objects": 5}
    assert entry["per_object_size"] == {
        "<16": {"objects": 1, "found": 1, "recall": 1.0},
        "16-32": {"objects": 1, "found": 0, "recall": 0.0},
        "32-64": {"objects": 2, "found": 1, "recall": 0.5},
        "64-128": {"objects": 0, "found": 0, "recall": None},
        ">128": {"objects": 1, "found": 1, "recall": 1.0},
    }
    assert entry["per_object_class"] == {
        "boat": {"objects": 2, "found": 1, "recall": 0.5},
        "person": {"objects": 1, "found": 1, "recall": 1.0},
        "smoke": {"objects": 1, "found": 1, "recall": 1.0},
        "vanished": {"objects": 1, "found": 0, "recall": 0.0},
    }
    events = entry["events"]
    assert events["false_events"] == 3 and events["flight_hours"] == pytest.approx(1.0)  # 1500 s + 2100 s
    assert events["false_events_per_flight_hour"] == pytest.approx(3.0)
    assert events["false_events_per_hour"] == pytest.approx(3 * 3600 / 1.0)  # the old field: normal frames only


def test_vanished_is_listed_without_objects_and_unsized_objects_are_in_no_bucket():
    # no object list (a real video labelled by hand): each interval is one object of unknown size
    video = ScoredVideo(
        "real", True, np.array([0.0, 0.5, 1.0]), np.array([0.1, 0.9, 0.1]), np.array([0, 1, 0], dtype=bool),
        intervals=(Interval(0.5, 0.5, "boat"),), events=(DetectedEvent(0.5, 0.5, 0.5, 0.9),),
    )
    entry = summarise("test", [video], 0.5, train_seconds=0.0, score_seconds=1.0)
    assert entry["per_object_class"] == {
        "boat": {"objects": 1, "found": 1, "recall": 1.0},
        "vanished": {"objects": 0, "found": 0, "recall": None},
    }
    assert entry["object_recall"]["sized_objects"] == 0
    assert all(row == {"objects": 0, "found": 0, "recall": None} for row in entry["per_object_size"].values())
    assert list(entry["per_object_size"]) == ["<16", "16-32", "32-64", "64-128", ">128"]
    assert entry["events"]["flight_hours"] == pytest.approx(1.5 / 3600)  # three frames 0.5 s apart


def test_evaluate_on_the_tiny_preset_writes_the_object_sections(tmp_path):
    from detection.cli import main
    from detection.synth.generate import generate

    data = generate(tmp_path / "tiny", preset="tiny", seed=0, jobs=1).parent
    # tiny's own splits have no normal test video, which evaluate refuses; the same four videos, re-split
    (data / "resplit.csv").write_text(
        "video,label,split,intervals,classes\n"
        "day01/patrol.mp4,normal,train,,\n"
        "day03/patrol.mp4,anomalous,val,0-2.874;0.125-2.999,boat;smoke\n"
        "day02/patrol.mp4,normal,test,,\n"
        "day04/patrol.mp4,anomalous,test,0-2.999;0-2.999,drone;fire\n"
    )
    out = tmp_path / "out"
    args = ["evaluate", str(data / "resplit.csv"), "--detectors", "iforest", "--out", str(out)]
    assert main([*args, "--size", "32", "32", "--no-progress", "--threads", "1"]) == 0
    document = json.loads((out / "metrics.json").read_text())
    entry = document["detectors"]["iforest"]
    assert document["schema_version"] == 2 and entry["status"] == "ok" and entry["frame_auc"] is not None
    assert entry["object_recall"]["objects"] == entry["object_recall"]["sized_objects"] == 2
    assert list(entry["per_object_size"]) == ["<16", "16-32", "32-64", "64-128", ">128"]
    assert entry["per_object_size"]["<16"]["objects"] == 2  # the drone and the fire, a few pixels across at 96x96
    assert list(entry["per_object_class"]) == ["drone", "fire", "vanished"]
    assert entry["per_object_class"]["vanished"] == {"objects": 0, "found": 0, "recall": None}
    assert entry["events"]["flight_hours"] == pytest.approx(2 * 3.0 / 3600)  # two 3 s test videos, probed
    markdown = (out / "report.md").read_text()
    assert "## Objects found per size (native pixels)" in markdown and "| vanished | 0 | – |" in markdown
