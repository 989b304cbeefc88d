"""Each metric against values worked out by hand on small made-up arrays."""

import numpy as np
import pytest

from detection.evaluation import metrics
from detection.evaluation.summary import ScoredVideo, summarise
from detection.types import DetectedEvent, Interval

LABELS = np.array([0, 0, 1, 1], dtype=bool)
SCORES = np.array([0.1, 0.4, 0.35, 0.8])


def test_roc_auc_counts_pairs_ranked_right():
    # positive-negative pairs: (0.35>0.1) (0.35<0.4) (0.8>0.1) (0.8>0.4) -> 3 of 4
    assert metrics.roc_auc(LABELS, SCORES) == pytest.approx(0.75)


def test_roc_auc_counts_ties_as_half():
    assert metrics.roc_auc(np.array([False, True]), np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_roc_auc_is_none_with_one_class():
    assert metrics.roc_auc(np.zeros(3, dtype=bool), np.array([0.1, 0.2, 0.3])) is None


def test_average_precision_sums_precision_at_each_recall_step():
    # ranked: 0.8 (anomaly) P=1 at R=.5; 0.4 (normal); 0.35 (anomaly) P=2/3 at R=1 -> .5*1 + .5*2/3
    assert metrics.average_precision(LABELS, SCORES) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert metrics.average_precision(np.zeros(2, dtype=bool), np.array([0.1, 0.2])) is None


def test_macro_auc_averages_videos_and_skips_one_class_videos():
    per_video = [
        (np.array([0, 1], dtype=bool), np.array([0.2, 0.9])),  # 1.0
        (np.array([0, 0, 1], dtype=bool), np.array([0.5, 0.1, 0.3])),  # one win one loss: 0.5
        (np.array([0, 0], dtype=bool), np.array([0.9, 0.1])),  # one class: skipped
    ]
    assert metrics.macro_roc_auc(per_video) == pytest.approx(0.75)
    assert metrics.macro_roc_auc(per_video[2:]) is None


def test_confusion_and_rates_of_both_classes_at_a_threshold():
    predicted = metrics.flag_frames(SCORES, 0.3)  # [F, T, T, T]
    confusion = metrics.confusion_counts(LABELS, predicted)
    assert confusion == {"tp": 2, "fp": 1, "tn": 1, "fn": 0}
    rates = metrics.classification_rates(confusion)
    assert rates["accuracy"] == pytest.approx(3 / 4)
    assert rates["precision"] == pytest.approx(2 / 3)
    assert rates["recall"] == pytest.approx(1.0)
    assert rates["f1"] == pytest.approx(0.8)
    assert rates["normal_precision"] == pytest.approx(1.0)
    assert rates["normal_recall"] == pytest.approx(0.5)
    assert rates["normal_f1"] == pytest.approx(2 / 3)


def test_a_score_equal_to_the_threshold_is_flagged():
    assert metrics.flag_frames(np.array([0.49999, 0.5]), 0.5).tolist() == [False, True]


def test_rates_are_none_when_undefined():
    rates = metrics.classification_rates({"tp": 0, "fp": 0, "tn": 3, "fn": 0})
    assert rates["precision"] is None and rates["recall"] is None and rates["f1"] is None
    assert rates["accuracy"] == 1.0


def test_origin_report_table_2_reproduces_its_table_1():
    # the origin report's MIL confusion: 20 anomalies found, 15 missed, 3 false, 32 normal right
    rates = metrics.classification_rates({"tp": 20, "fn": 15, "fp": 3, "tn": 32})
    assert round(rates["accuracy"], 2) == 0.74  # the report printed 78%: its table 1 and 2 disagree
    assert round(rates["precision"], 2) == 0.87 and round(rates["recall"], 2) == 0.57
    assert round(rates["normal_precision"], 2) == 0.68 and round(rates["normal_recall"], 2) == 0.91


def test_false_alarms_are_runs_of_flagged_normal_frames_per_hour_of_normal_footage():
    labels = np.array([0, 0, 0, 0, 1, 1, 0, 0], dtype=bool)
    predicted = np.array([1, 1, 0, 1, 1, 0, 0, 1], dtype=bool)
    assert metrics.false_alarm_runs(labels, predicted) == 3  # frames 0-1, 3, 7
    # six normal frames at 0.5 s each: 3 s of normal footage
    assert metrics.per_hour(3, 6 * 0.5) == pytest.approx(3600.0)
    assert metrics.per_hour(3, 0.0) is None
    assert metrics.frame_step_seconds(np.arange(8) * 0.5) == 0.5


def test_true_runs():
    assert metrics.true_runs(np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool)) == [(0, 1), (3, 3), (6, 6)]
    assert metrics.true_runs(np.zeros(3, dtype=bool)) == []


def test_events_find_overlapped_intervals_with_latency_and_count_false_events():
    intervals = [Interval(10, 20, "boat"), Interval(30, 35, "person"), Interval(50, 60, "car")]
    events = [
        DetectedEvent(5, 12, 6, 1.0),  # overlaps the boat, flagged before it began: latency 0
        DetectedEvent(14, 16, 15, 1.0),  # also the boat
        DetectedEvent(32, 33, 32, 1.0),  # the person, 2 s after it began
        DetectedEvent(40, 42, 41, 1.0),  # nothing there
        DetectedEvent(61, 62, 61, 1.0),  # just after the car
    ]
    latencies, false_events = metrics.match_events(intervals, events)
    assert latencies == [0.0, 2.0, None]
    assert false_events == 2


def test_size_buckets_by_share_of_the_frame():
    assert [metrics.size_bucket(a) for a in (0.0005, 0.001, 0.004, 0.005, 0.03, 0.0)] == [
        "<0.1%",
        "0.1-0.5%",
        "0.1-0.5%",
        "0.5-2%",
        ">2%",
        metrics.NOT_VISIBLE,
    ]


def test_recall_by_class_counts_a_frame_in_each_of_its_classes():
    labels = np.array([1, 1, 1, 0, 1], dtype=bool)
    predicted = np.array([1, 0, 1, 1, 0], dtype=bool)
    groups = [("boat",), ("boat", "person"), ("person",), (), ("car",)]
    assert metrics.recall_by_group(labels, predicted, groups) == {
        "boat": {"frames": 2, "recall": 0.5},
        "car": {"frames": 1, "recall": 0.0},
        "person": {"frames": 2, "recall": 0.5},
    }


def test_recall_by_size():
    labels = np.array([1, 1, 1, 0], dtype=bool)
    predicted = np.array([0, 1, 1, 1], dtype=bool)
    table = metrics.recall_by_size(labels, predicted, np.array([0.0005, 0.01, 0.015, 0.0]))
    assert table == {"<0.1%": {"frames": 1, "recall": 0.0}, "0.5-2%": {"frames": 2, "recall": 1.0}}


def test_pixel_auc_pools_pixels_and_counts_ties_as_half():
    masks = [np.array([[[0, 1], [0, 0]]], dtype=bool)]
    heatmaps = [np.array([[[1, 5], [2, 5]]], dtype=np.uint8)]
    # the one anomalous pixel (5) beats 1 and 2 and ties 5: 2.5 of 3
    assert metrics.pixel_roc_auc(masks, heatmaps) == pytest.approx(2.5 / 3)
    assert metrics.pixel_roc_auc([np.zeros((1, 2, 2), bool)], [np.ones((1, 2, 2))]) is None


def _video(video_id, scores, labels, anomalous, intervals=(), events=()):
    times = np.arange(len(scores)) * 0.5
    return ScoredVideo(
        video_id,
        anomalous,
        times,
        np.array(scores),
        np.array(labels, dtype=bool),
        tuple(intervals),
        tuple(events),
    )


def test_summarise_combines_frame_video_and_event_levels():
    videos = [
        _video(
            "a", [0.1, 0.9], [0, 1], True, [Interval(0.5, 0.5, "boat")], [DetectedEvent(0.5, 0.5, 0.5, 0.9)]
        ),
        _video("b", [0.2, 0.6], [0, 0], False, [], [DetectedEvent(0.5, 0.5, 0.5, 0.6)]),
        _video("c", [0.1, 0.2], [0, 0], False),
    ]
    entry = summarise("test", videos, 0.5, train_seconds=2.0, score_seconds=3.0)
    assert entry["status"] == "ok" and entry["score_fps"] == pytest.approx(2.0)
    assert entry["frames"] == 6 and entry["positives"] == 1
    assert entry["frame_auc"] == pytest.approx(1.0)
    assert entry["confusion"] == {"tp": 1, "fp": 1, "tn": 4, "fn": 0}
    assert entry["accuracy"] == pytest.approx(5 / 6)
    # five normal frames of 0.5 s, one false alarm
    assert entry["false_alarms_per_hour"] == pytest.approx(3600 / 2.5)
    # peaks .9 (anomalous), .6, .2 (normal): flagged [T, T, F]
    assert entry["video_confusion"] == {"tp": 1, "fp": 1, "tn": 1, "fn": 0}
    assert entry["video_auc"] == pytest.approx(1.0)
    assert entry["video_f1"] == pytest.approx(2 / 3)
    assert entry["events"]["found"] == 1 and entry["events"]["false_events"] == 1
    assert entry["per_class"]["boat"] == {"frames": 1, "recall": 1.0, "intervals": 1, "found": 1}
    assert entry["per_size"] == {} and entry["pixel_auc"] is None


def test_pixel_size_buckets_take_their_low_edge():
    sizes = (0.0, 15.99, 16.0, 31.99, 32.0, 63.99, 64.0, 127.99, 128.0, 5000.0)
    assert [metrics.pixel_size_bucket(s) for s in sizes] == [
        "<16", "<16", "16-32", "16-32", "32-64", "32-64", "64-128", "64-128", ">128", ">128",
    ]


def test_recall_by_name_counts_objects_and_is_none_over_none():
    table = metrics.recall_by_name(["boat", "car", "boat"], [True, False, False], always=["vanished"])
    assert table == {
        "vanished": {"objects": 0, "found": 0, "recall": None},
        "boat": {"objects": 2, "found": 1, "recall": 0.5},
        "car": {"objects": 1, "found": 0, "recall": 0.0},
    }


def test_an_object_is_found_by_any_event_meeting_its_span():
    objects = [Interval(10, 20), Interval(30, 35)]
    events = [DetectedEvent(20, 25, 21, 1.0), DetectedEvent(36, 40, 37, 1.0)]  # touches the first only
    assert metrics.objects_found(objects, events) == [True, False]


def test_confusion_at_thresholds_matches_a_hand_worked_example():
    labels = np.array([True, True, False, False, False])
    scores = np.array([0.9, 0.4, 0.4, 0.2, 0.1])
    counts = metrics.confusion_at_thresholds(labels, scores, np.array([0.4, 0.15]))
    # >= 0.4: 0.9, 0.4 (pos) and 0.4 (neg) flagged; >= 0.15: 0.9, 0.4 (pos), 0.4, 0.2 (neg) flagged
    assert {k: v.tolist() for k, v in counts.items()} == {"tp": [2, 2], "fp": [1, 2], "tn": [2, 1], "fn": [0, 0]}
    for i, threshold in enumerate((0.4, 0.15)):
        assert metrics.confusion_counts(labels, metrics.flag_frames(scores, threshold)) == {
            k: int(v[i]) for k, v in counts.items()}
