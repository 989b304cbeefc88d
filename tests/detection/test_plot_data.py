"""What the detector page draws, computed by the evaluate job: the slider table, thinned curves, class peaks."""

import numpy as np
import pytest

from detection.evaluation import metrics, plot_data
from detection.evaluation.summary import ScoredVideo
from detection.types import Interval


def video(name, scores, anomalous_from=None, anomaly_class=""):
    scores = np.asarray(scores, dtype=np.float64)
    times = np.arange(len(scores)) * 0.5
    labels = times >= anomalous_from if anomalous_from is not None else np.zeros(len(scores), dtype=bool)
    intervals = (Interval(anomalous_from, times[-1], anomaly_class),) if anomalous_from is not None else ()
    return ScoredVideo(video_id=name, is_anomalous=anomalous_from is not None, times=times, scores=scores,
                       labels=labels, intervals=intervals)


VIDEOS = [video("calm", [0.1, 0.2, 0.3, 0.2]), video("boat", [0.2, 0.25, 0.8, 0.9], 1.0, "boat"),
          video("odd", [0.1, 0.6, 0.1, 0.1], 0.5)]


def test_the_threshold_table_holds_the_threshold_and_both_ends():
    labels, scores = plot_data.pooled(VIDEOS)
    table = plot_data.threshold_table(labels, scores, 0.5, steps=4)
    assert table["thresholds"][table["index"]] == 0.5 and table["rule"] == "at or above"
    assert (table["tp"][0], table["fp"][0]) == (int(labels.sum()), int((~labels).sum()))  # everything flagged
    assert (table["tp"][-1], table["fp"][-1]) == (0, 0)  # nothing flagged
    confusion = metrics.confusion_counts(labels, metrics.flag_frames(scores, 0.5))
    assert {k: table[k][table["index"]] for k in confusion} == confusion
    assert table["f1"][table["index"]] == pytest.approx(metrics.classification_rates(confusion)["f1"])


def test_a_curve_row_is_the_metrics_of_the_pooled_frames():
    labels, scores = plot_data.pooled(VIDEOS)
    row = plot_data.curve_row("cae", VIDEOS, 0.5)
    assert row["frame_auc"] == metrics.roc_auc(labels, scores)
    assert row["frame_ap"] == metrics.average_precision(labels, scores)
    assert (row["fpr"], row["tpr"]) == tuple(metrics.roc_points(labels, scores).values())


def test_thin_keeps_both_ends_and_at_most_the_limit():
    x, y = plot_data.thin(np.linspace(0, 1, 5000), np.linspace(1, 2, 5000), limit=100)
    assert len(x) == 100 and (x[0], x[-1], y[0], y[-1]) == (0.0, 1.0, 1.0, 2.0)


def test_class_peaks_group_each_video_by_its_classes():
    assert plot_data.class_peaks(VIDEOS) == {"normal": [0.3], "boat": [0.9], "unnamed": [0.6]}
