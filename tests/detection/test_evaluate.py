"""The evaluation runner on in-memory frames: thresholds from val only, failures isolated, a stable schema."""

import json

import pytest

from detection.errors import TrainingDataError, VideoError
from detection.evaluation import schema
from detection.evaluation.report_md import render_markdown
from detection.evaluation.runner import DetectorSpec, evaluate, file_specs, parse_detectors
from detection.json_values import json_text
from tests.support.evaluation import (
    RECORDS,
    BrightnessDetector,
    SpyReport,
    evaluation_settings,
    frame_loader,
    record,
    spy_trainer,
)


def test_trainers_never_receive_test_videos_and_test_content_cannot_move_thresholds():
    seen = []
    spec_spy, spec_iforest = DetectorSpec("spy", "spy"), DetectorSpec("iforest", "iforest")
    run = lambda box: evaluate(  # noqa: E731
        RECORDS,
        evaluation_settings(spec_spy, spec_iforest),
        load_frames=_test_box(box),
        trainers={"spy": spy_trainer(seen)},
        show_progress=False,
    )
    first, second = run((8, 8, 16)), run((2, 2, 24))
    assert seen and all(not any(v.startswith("test/") for v in call) for call in seen)
    for name in ("spy", "iforest"):
        assert first.metrics["detectors"][name]["threshold"] == second.metrics["detectors"][name]["threshold"]
    # the test content did change what was measured
    assert first.curves["spy"]["timelines"] != second.curves["spy"]["timelines"]


def _test_box(test_box):
    usual, changed = frame_loader(), frame_loader(test_box)
    return lambda record: changed(record) if record.split == "test" else usual(record)


def test_a_detector_that_fails_is_reported_and_the_others_still_run():
    def broken(train_items, val_items, **kwargs):
        raise TrainingDataError("no anomalous videos in the train split")

    result = evaluate(
        RECORDS,
        evaluation_settings(DetectorSpec("broken", "broken"), DetectorSpec("spy", "spy")),
        load_frames=frame_loader(),
        trainers={"broken": broken, "spy": spy_trainer([])},
        show_progress=False,
    )
    broken_entry, spy = result.metrics["detectors"]["broken"], result.metrics["detectors"]["spy"]
    assert broken_entry["status"] == "failed" and "no anomalous videos" in broken_entry["error"]
    assert "TrainingDataError" in result.errors["broken"]
    assert spy["status"] == "ok" and spy["frame_auc"] == pytest.approx(1.0)
    assert spy["train_seconds"] == 0.25


def test_the_metrics_document_follows_the_documented_schema():
    result = evaluate(
        RECORDS,
        evaluation_settings(DetectorSpec("spy", "spy"), DetectorSpec("broken", "broken")),
        load_frames=frame_loader(),
        trainers={"spy": spy_trainer([]), "broken": lambda *a, **k: 1 / 0},
        show_progress=False,
    )
    document = json.loads(json_text(result.metrics))
    assert tuple(document) == schema.TOP_LEVEL_KEYS
    assert document["schema_version"] == schema.SCHEMA_VERSION == 2
    for entry in document["detectors"].values():
        assert tuple(entry) == schema.DETECTOR_KEYS
        assert tuple(entry["confusion"]) == schema.CONFUSION_KEYS
        assert tuple(entry["events"]) == schema.EVENT_KEYS
        assert tuple(entry["object_recall"]) == schema.OBJECT_RECALL_KEYS
    assert document["detectors"]["broken"]["error"] == "ZeroDivisionError: division by zero"
    for key in (*schema.DETECTOR_KEYS, *schema.TOP_LEVEL_KEYS, *schema.EVENT_KEYS, *schema.OBJECT_RECALL_KEYS):
        assert key in schema.__doc__, f"{key} is not documented"
    # the keys the issue names, frozen: renaming one must be a deliberate schema change
    required = "frame_auc frame_ap threshold accuracy precision recall f1 confusion video_auc video_f1"
    required += " false_alarms_per_hour per_class train_seconds score_fps"
    assert set(required.split()) <= set(schema.DETECTOR_KEYS)
    assert document["splits"]["test"] == {
        "videos": 2,
        "normal": 1,
        "anomalous": 1,
        "unlabelled": 0,
        "frames": 24,
    }


def test_split_problems_are_named():
    no_normal_train = [r for r in RECORDS if r.video_id not in ("train/a", "train/b")] + [
        record("train/z", "train", 3)
    ]
    with pytest.raises(TrainingDataError, match="train split has no normal videos"):
        evaluate(no_normal_train, evaluation_settings(DetectorSpec("iforest", "iforest")), load_frames=frame_loader())
    with pytest.raises(TrainingDataError, match="test split has no normal videos"):
        evaluate([r for r in RECORDS if r.video_id != "test/n"], evaluation_settings(), load_frames=frame_loader())
    with pytest.raises(TrainingDataError, match="val split has no videos"):
        evaluate([r for r in RECORDS if r.split != "val"], evaluation_settings(), load_frames=frame_loader())


def test_a_video_that_cannot_be_read_is_named():
    def load(record):
        if record.video_id == "val/x":
            raise VideoError("not a video: random bytes")
        return frame_loader()(record)

    with pytest.raises(VideoError, match=r"val/x \(val split\): not a video"):
        evaluate(
            RECORDS, evaluation_settings(DetectorSpec("iforest", "iforest")), load_frames=load, show_progress=False
        )


def test_parse_detectors_names_kinds_andevaluation_settings():
    specs = parse_detectors("cae,base=iforest", epochs=3, settings=["base.n_estimators=50", "cae.loss=mse"])
    assert [(s.name, s.kind, s.overrides) for s in specs] == [
        ("cae", "cae", {"epochs": 3, "loss": "mse"}),
        ("base", "iforest", {"n_estimators": 50}),
    ]
    with pytest.raises(ValueError, match="unknown detector kind 'svm'"):
        parse_detectors("svm")
    with pytest.raises(ValueError, match="NAME.key=value"):
        parse_detectors("cae", settings=["mil.iterations=3"])


def test_a_detector_set_to_train_on_train_and_val_still_never_sees_test():
    seen = []
    spec = parse_detectors("spy=iforest", settings=["spy.train_splits=train+val"])[0]
    spec = DetectorSpec("spy", "spy", spec.overrides)
    result = evaluate(
        RECORDS,
        evaluation_settings(spec),
        load_frames=frame_loader(),
        trainers={"spy": spy_trainer(seen)},
        show_progress=False,
    )
    assert "val/x" in seen[0][:4] and not any(v.startswith("test/") for v in seen[0])
    assert "trained on train+val" in result.metrics["detectors"]["spy"]["warnings"][0]
    with pytest.raises(ValueError, match="never test"):
        parse_detectors("mil", settings=["mil.train_splits=train+test"])


def test_an_already_trained_detector_file_is_scored_with_its_own_threshold(tmp_path):
    from detection.registry import TrainItem, trainer

    load = frame_loader()
    train = [TrainItem(load(r), r) for r in RECORDS if r.split == "train"]
    val = [TrainItem(load(r), r) for r in RECORDS if r.split == "val"]
    detector, _ = trainer("cae")(train, val, overrides={"epochs": 1, "input_size": 32}, seed=0)
    detector.save(tmp_path / "area.pt")
    result = evaluate(
        RECORDS, evaluation_settings(*file_specs([tmp_path / "area.pt"])), load_frames=load, show_progress=False
    )
    entry = result.metrics["detectors"]["file:area"]
    assert entry["status"] == "ok", entry["error"]
    assert entry["kind"] == "cae" and entry["train_seconds"] == 0.0
    assert entry["threshold"] == pytest.approx(detector.threshold)
    assert entry["frames"] == 24


def test_a_setting_at_name_hands_over_the_file_of_a_detector_trained_earlier_in_the_run():
    received = []

    class Saveable(BrightnessDetector):
        def save(self, path):
            path.write_text("weights")

    def first(train_items, val_items, *, overrides, progress, seed):
        return Saveable(0.5), SpyReport()

    def second(train_items, val_items, *, overrides, progress, seed):
        path = overrides["cae_detector"]
        received.append((path, open(path).read()))
        return BrightnessDetector(0.5), SpyReport()

    trainers = {"area": first, "user": second}
    result = evaluate(
        RECORDS,
        evaluation_settings(DetectorSpec("cae", "area"), DetectorSpec("mil", "user", {"cae_detector": "@cae"})),
        load_frames=frame_loader(), trainers=trainers, show_progress=False,
    )
    assert result.metrics["detectors"]["mil"]["status"] == "ok"
    assert received[0][0].endswith("cae.pt") and received[0][1] == "weights"
    assert result.metrics["settings"]["detectors"]["mil"]["overrides"] == {"cae_detector": "@cae"}
    # a name that was not trained before it is a clear error of that detector alone
    result = evaluate(
        RECORDS,
        evaluation_settings(DetectorSpec("mil", "user", {"cae_detector": "@cae"}), DetectorSpec("cae", "area")),
        load_frames=frame_loader(), trainers=trainers, show_progress=False,
    )
    entry = result.metrics["detectors"]["mil"]
    assert entry["status"] == "failed" and "no detector named 'cae' was trained earlier" in entry["error"]
    assert result.metrics["detectors"]["cae"]["status"] == "ok"


def test_event_metrics_use_the_events_the_detector_returns_not_a_default_merge():
    """A detector merges events with its own settings; the runner measures those, as the evaluate job does."""
    from dataclasses import replace

    from detection.types import DetectedEvent

    class OwnEvents(BrightnessDetector):
        def score_frames(self, frames, times, progress=None):
            result = super().score_frames(frames, times)
            return replace(result, events=(DetectedEvent(0.0, 0.0, 0.0, 1.0),))  # one event, before any anomaly

    def train(train_items, val_items, *, overrides, progress, seed):
        threshold = spy_trainer([])(train_items, val_items, overrides=overrides, progress=progress, seed=seed)[0]
        return OwnEvents(threshold.threshold), SpyReport()

    result = evaluate(RECORDS, evaluation_settings(DetectorSpec("own", "own"), DetectorSpec("spy", "spy")),
                      load_frames=frame_loader(), trainers={"own": train, "spy": spy_trainer([])},
                      show_progress=False)
    own, spy = result.metrics["detectors"]["own"], result.metrics["detectors"]["spy"]
    assert own["frame_auc"] == spy["frame_auc"] and own["confusion"] == spy["confusion"]  # the same frame scores
    assert (own["events"]["found"], own["events"]["false_events"]) == (0, 2)
    assert (spy["events"]["intervals"], spy["events"]["found"], spy["events"]["false_events"]) == (1, 1, 0)


def test_each_detector_reports_its_test_frames_on_the_level_scale():
    result = evaluate(RECORDS, evaluation_settings(DetectorSpec("spy", "spy")), load_frames=frame_loader(),
                      trainers={"spy": spy_trainer([])}, show_progress=False)
    spy = result.metrics["detectors"]["spy"]
    levels = spy["levels"]
    assert levels["zero"] == 0.1, "level 0 is the trainer's median normal validation score"
    # level >= 1 is exactly score >= threshold: the share of normal frames at level 1 is the false-alarm rate
    confusion = spy["confusion"]
    assert levels["normal_at_or_above_1"] == pytest.approx(confusion["fp"] / (confusion["fp"] + confusion["tn"]))
    assert levels["anomalous_median"] > 1.0 > levels["normal_median"]
    text = render_markdown(result.metrics)
    assert "## Levels" in text and "normal at or above 1" in text
