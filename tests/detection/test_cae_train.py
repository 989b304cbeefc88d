"""CAE training: reproducible, stops early, keeps its curve and reconstructions, and uses the right frames."""

from pathlib import Path

import numpy as np
import pytest

from detection.cae.config import make_config
from detection.cae.train import normal_runs, train_cae, train_from_items
from detection.errors import TrainingDataError
from detection.registry import TrainItem, trainer
from detection.types import Interval, SampledFrames, VideoRecord
from tests.detection.cae_support import one_thread, scene  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {"input_size": 32, "batch_size": 16, "widths": (8, 16)}


def item(frames, label, intervals=(), name="v"):
    times = np.arange(len(frames)) * 0.5
    record = VideoRecord(path=Path(f"{name}.mp4"), label=label, intervals=tuple(intervals), video_id=name)
    return TrainItem(SampledFrames(frames=frames, times=times), record)


def test_the_same_seed_gives_the_same_model_on_cpu():
    config = make_config({**TINY, "epochs": 2})
    runs = []
    for _ in range(2):
        detector, report = train_cae([scene(24)], [scene(8, offset=24)], [np.zeros(8, bool)], config=config, seed=3)
        runs.append((report.curve, detector.score_frames(scene(4, offset=40), np.arange(4.0)).frame_scores))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_it_keeps_the_loss_curve_and_reconstructions_at_0_10_20_and_last():
    config = make_config({"config": "report", **TINY, "epochs": 21, "patience": 100, "learning_rate": 0.001})
    _, report = train_cae([scene(16)], [scene(6, offset=16)], [np.zeros(6, bool)], config=config, seed=0)
    assert [row["epoch"] for row in report.curve] == list(range(1, 22))
    assert all(np.isfinite(row["train_loss"]) and np.isfinite(row["val_loss"]) for row in report.curve)
    assert report.curve[-1]["train_loss"] < report.curve[0]["train_loss"]
    assert sorted(report.reconstructions) == [0, 10, 20, 21]
    inputs, outputs = report.reconstructions[21]
    assert inputs.shape == outputs.shape == (6, 32, 32, 3) and outputs.dtype == np.uint8
    assert report.validation_metrics["threshold_method"] == "quantile"
    assert any("no anomalies" in w for w in report.warnings)


def test_it_stops_when_validation_loss_stops_improving():
    config = make_config({**TINY, "epochs": 40, "patience": 2, "learning_rate": 0.05})
    _, report = train_cae([scene(16)], [scene(6, offset=16)], [np.zeros(6, bool)], config=config, seed=0)
    losses = [row["val_loss"] for row in report.curve]
    assert len(losses) < 40
    best_before = min(losses[:-2])
    assert min(losses[-2:]) >= best_before  # the last two epochs did not beat the best before them


def test_it_holds_out_training_frames_when_validation_has_no_normal_frames():
    config = make_config({**TINY, "epochs": 1})
    detector, report = train_cae([scene(20)], [], [], config=config, seed=0)
    assert any("held out" in w for w in report.warnings)
    assert report.validation_metrics["val_frames"] == 2  # the last 10% of 20 frames
    assert np.isfinite(detector.threshold)


def test_train_from_items_uses_normal_frames_and_known_labels_only():
    frames = scene(20, box_from=14)
    train = [
        item(scene(16), "normal", name="n"),
        item(frames, "anomalous", [Interval(7.0, 10.0)], name="a"),
        item(scene(10, box_from=0), "anomalous", name="weak"),
        item(scene(10), "", name="unlabelled"),
    ]
    val = [item(scene(12, offset=30, box_from=6), "anomalous", [Interval(3.0, 6.0)], name="va"),
           item(scene(8, box_from=0), "anomalous", name="vweak")]
    detector, report = trainer("cae")(train, val, overrides={"epochs": 2, **TINY}, seed=0)
    assert detector.kind == "cae"
    assert report.validation_metrics["val_frames"] == 12
    assert report.validation_metrics["val_anomalous_frames"] == 6
    assert report.validation_metrics["threshold_method"] == "best_f1"
    # The default takes the one-standard-error rule: never a better validation F1 than the best, never above it.
    assert report.validation_metrics["val_f1"] <= report.validation_metrics["val_best_f1"]
    assert report.validation_metrics["val_f1_standard_error"] >= 0.0
    warnings = " ".join(report.warnings)
    assert "left out of training" in warnings and "weak" in warnings and "unlabelled" in warnings
    assert "left out of the threshold choice" in warnings and "vweak" in warnings


def test_train_from_items_picks_the_report_preset():
    train = [item(scene(8), "normal")]
    detector, _ = train_from_items(train, [], overrides={"config": "report", "epochs": 1, **TINY})
    assert detector.config.name == "report" and detector.config.loss == "mse"


def test_it_refuses_to_train_without_normal_frames():
    train = [item(scene(6, box_from=0), "anomalous", name="a"), item(scene(6), "", name="b")]
    with pytest.raises(TrainingDataError, match="no normal training frames"):
        train_from_items(train, [])


def test_normal_runs_split_around_labelled_frames():
    frames = np.arange(8)
    runs = normal_runs(frames, np.array([1, 0, 0, 1, 1, 0, 0, 0], bool))
    assert [r.tolist() for r in runs] == [[1, 2], [5, 6, 7]]


def test_sequence_mode_trains_and_scores_windows_of_frames():
    config = make_config({**TINY, "epochs": 1, "sequence_length": 3})
    detector, report = train_cae([scene(12)], [scene(6, offset=12)], [np.zeros(6, bool)], config=config, seed=0)
    assert report.reconstructions[1][0].shape == (6, 32, 32, 3)  # the newest frame of each window
    scores = detector.score_frames(scene(5, offset=20), np.arange(5.0))
    assert scores.frame_scores.shape == (5,) and np.isfinite(scores.frame_scores).all()


def test_tiled_mode_trains_on_tiles_and_scores_full_frames():
    config = make_config({**TINY, "epochs": 1, "tiled": True})
    frames = scene(6, size=48)  # 48x48 frames in 32x32 tiles: a 2x2 grid
    detector, report = train_cae([frames], [scene(4, size=48, offset=6)], [np.array([0, 0, 1, 1], bool)],
                                 config=config, seed=0)
    assert report.validation_metrics["val_frames"] == 4
    scores = detector.score_frames(scene(3, size=48, offset=10), np.arange(3.0))
    assert scores.heatmaps.shape == (3, 48, 48)


def test_single_frame_runs_still_get_a_threshold():
    config = make_config({**TINY, "epochs": 1})
    detector, report = train_cae([scene(1), scene(1, offset=5)], [], [], config=config, seed=0)
    assert np.isfinite(detector.threshold)
    assert any("threshold from the training frames" in w for w in report.warnings)


def test_the_quantile_threshold_rule_bounds_the_validation_false_alarms():
    config = make_config({**TINY, "epochs": 2, "threshold_method": "quantile", "threshold_quantile": 0.9})
    val = scene(20, offset=24, box_from=10)
    labels = np.arange(20) >= 10
    detector, report = train_cae([scene(24)], [val], [labels], config=config, seed=0)
    normal_scores = detector.score_frames(val, np.arange(20) * 0.5).frame_scores[~labels]
    assert detector.threshold == pytest.approx(float(np.quantile(normal_scores, 0.9)), rel=1e-5)
    assert report.validation_metrics["threshold_method"] == "quantile"
    with pytest.raises(ValueError, match="threshold_method"):
        make_config({"threshold_method": "median"})


def test_a_dismissed_events_frames_join_the_training_and_validation_normals(monkeypatch):
    import detection.cae.train as cae_train

    seen = {}

    def capture(runs, val_videos, val_labels, **options):
        seen.update(runs=runs, val=val_videos, labels=val_labels)
        return train_cae(runs, val_videos, val_labels, **options)

    monkeypatch.setattr(cae_train, "train_cae", capture)
    unlabelled = scene(12, offset=50)  # frames at 0, 0.5, ... 5.5 s; the dismissed event covers 2-3.5 s
    train = [item(scene(8), "normal", name="n"),
             TrainItem(SampledFrames(unlabelled, np.arange(12) * 0.5),
                       VideoRecord(Path("u.mp4"), label="", video_id="u", normal_intervals=(Interval(2.0, 3.5),)))]
    other = scene(10, offset=80)
    val = [TrainItem(SampledFrames(other, np.arange(10) * 0.5),
                     VideoRecord(Path("w.mp4"), label="", video_id="w", normal_intervals=(Interval(1.0, 2.0),)))]
    _, report = train_from_items(train, val, overrides={"epochs": 1, **TINY}, seed=0)
    trained = np.concatenate(seen["runs"])
    assert len(trained) == 8 + 4, "the normal video and the 4 frames of the dismissed span"
    for frame in unlabelled[4:8]:
        assert any(np.array_equal(frame, kept) for kept in trained)
    assert not any(np.array_equal(unlabelled[0], kept) for kept in trained), "unreviewed frames stay unknown"
    assert [len(v) for v in seen["val"]] == [3] and not seen["labels"][0].any()
    assert np.array_equal(seen["val"][0], other[2:5])
    assert "left out of training" not in " ".join(report.warnings)
