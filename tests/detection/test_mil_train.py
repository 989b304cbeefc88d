"""Training the MIL detector on tiny real videos labelled only per video, then scoring, saving and loading it."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from detection.detector_file import load_detector, read_payload
from detection.errors import DetectorFileError, TrainingDataError
from detection.labels import frame_labels
from detection.mil.config import MILConfig
from detection.mil.detector import load_from_payload
from detection.mil.train import train_from_items, train_head
from detection.registry import TrainItem, trainer
from detection.types import Interval, VideoRecord
from detection.video.sampling import sample_frames
from tests.support.videos import make_video

SECONDS = 8.0
FAST = {"extractor": "mobilenet_v2", "input_size": 64, "clip_len": 2, "iterations": 60, "learning_rate": 0.01}


def tiny_item(folder: Path, index: int, anomalous: bool) -> TrainItem:
    """An 8 s clip of the panning scene; anomalous ones show a white box from 2-4 s on (the weak label)."""
    box_from = 2.0 + index % 3 if anomalous else None
    box = (4 + 7 * (index % 4), 6 + 5 * (index % 3), 10 + 2 * (index % 3))
    name = f"{'anomalous' if anomalous else 'normal'}-{index}.mp4"
    path = make_video(folder / name, seconds=SECONDS, fps=4, width=64, height=48, box_from=box_from, box=box)
    intervals = (Interval(box_from, SECONDS),) if anomalous else ()
    record = VideoRecord(
        path=path, label="anomalous" if anomalous else "normal", intervals=intervals, video_id=name
    )
    return TrainItem(sample_frames(path, fps=2.0, size=(48, 48)), record)


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    """(train, val, a feature cache folder): 4 + 4 training videos, 2 + 2 validation videos."""
    folder = tmp_path_factory.mktemp("mil-videos")
    train = [tiny_item(folder, i, anomalous) for i in range(4) for anomalous in (True, False)]
    val = [tiny_item(folder, 10 + i, anomalous) for i in range(2) for anomalous in (True, False)]
    return train, val, str(tmp_path_factory.mktemp("features"))


@pytest.fixture(scope="module")
def trained(items):
    train, val, cache = items
    detector, report = train_from_items(train, val, overrides={**FAST, "feature_cache": cache}, seed=0)
    return detector, report, val


@pytest.mark.slow
def test_anomalous_segments_end_up_scored_above_normal_ones(trained):
    detector, report, val = trained
    inside, normal = [], []
    for item in val:
        scores = detector.score_frames(item.frames.frames, item.frames.times)
        if item.record.is_anomalous:
            starts = scores.segment_bounds[:, 0]
            inside.append(scores.segment_scores[starts >= item.record.intervals[0].start])
        else:
            normal.append(scores.segment_scores)
    assert np.concatenate(inside).mean() > np.concatenate(normal).max()
    assert report.validation_metrics["video_auc"] == 1.0
    assert report.curve[-1]["train_loss"] < report.curve[0]["train_loss"]


@pytest.mark.slow
def test_frame_scores_follow_the_segments_and_events_cover_the_anomaly(trained):
    detector, _, val = trained
    item = next(item for item in val if item.record.is_anomalous)
    scores = detector.score_frames(item.frames.frames, item.frames.times)
    assert scores.frame_scores.shape == item.frames.times.shape
    assert scores.segment_scores.shape == (32,) and scores.segment_bounds.shape == (32, 2)
    truth = frame_labels(scores.times, item.record.intervals)
    assert scores.frame_scores[truth].min() > scores.frame_scores[~truth].max()
    assert scores.events and scores.events[0].start >= item.record.intervals[0].start - 0.5


@pytest.mark.slow
def test_a_saved_detector_loads_and_scores_the_same(trained, tmp_path):
    detector, _, val = trained
    detector.save(tmp_path / "mil.pt")
    loaded = load_detector(tmp_path / "mil.pt")
    assert loaded.kind == "mil" and loaded.threshold == pytest.approx(detector.threshold)
    assert loaded.extractor.describe() == detector.extractor.describe()
    frames, times = val[0].frames.frames, val[0].frames.times
    assert np.allclose(
        loaded.score_frames(frames, times).frame_scores, detector.score_frames(frames, times).frame_scores
    )


def test_a_file_from_before_pooling_was_a_setting_loads_as_average_pooled(trained, tmp_path):
    detector, _, _ = trained
    assert detector.extractor.describe()["pooling"] == "max-avg"  # the default
    detector.save(tmp_path / "mil.pt")
    payload = read_payload(tmp_path / "mil.pt")
    old_config = {key: value for key, value in payload.config.items() if key != "spatial_pooling"}
    old_extractor = {key: value for key, value in payload.extra["extractor"].items() if key != "pooling"}
    old_extractor["version"] = old_extractor["version"].removesuffix("-max-avg")
    old = dataclasses.replace(payload, config=old_config, extra={**payload.extra, "extractor": old_extractor})
    loaded = load_from_payload(old)
    assert loaded.config.spatial_pooling == "avg" and loaded.extractor.describe()["pooling"] == "avg"
    # and max-avg features under the average's version would mix caches: that file is refused
    mixed = dataclasses.replace(
        payload, extra={**payload.extra, "extractor": {**old_extractor, "pooling": "max-avg"}}
    )
    with pytest.raises(DetectorFileError, match="retrain"):
        load_from_payload(mixed)


# How MILConfig's fields were called, and what meant "not set", before the configs of the kinds were aligned.
OLD_NAMES = {"learning_rate": "lr", "segment_pooling": "pool", "topk_segments": "topk", "spatial_pooling": "pooling"}


def old_layout(config: dict) -> dict:
    """A saved MIL config as files written before the rename hold it: old names, 0 and "" for "not set",
    the device and the epochs field beside the iterations."""
    old = {OLD_NAMES.get(key, key): value for key, value in config.items()}
    old.update(device="", epochs=0, cae_detector="", cae_epochs=0)
    return old


def test_a_file_saved_under_the_old_names_loads_to_the_same_detector(trained, tmp_path):
    detector, _, val = trained
    detector.save(tmp_path / "mil.pt")
    payload = read_payload(tmp_path / "mil.pt")
    assert {"lr", "pool", "pooling", "device", "epochs"}.isdisjoint(payload.config)  # what is written now
    old = dataclasses.replace(payload, config=old_layout(payload.config))
    assert {"lr", "pool", "topk", "pooling", "device", "epochs"} <= old.config.keys()
    loaded = load_from_payload(old)
    assert loaded.config == detector.config
    assert (loaded.config.cae_detector, loaded.config.cae_epochs) == (None, None)
    frames, times = val[0].frames.frames, val[0].frames.times
    assert np.array_equal(
        loaded.score_frames(frames, times).frame_scores, detector.score_frames(frames, times).frame_scores
    )


def test_old_names_in_overrides_still_train_and_warn_with_the_new_names(items):
    train, val, cache = items
    old = {OLD_NAMES.get(key, key): value for key, value in FAST.items()}
    with pytest.warns(FutureWarning, match="'lr' is now called 'learning_rate'"):
        detector, _ = train_from_items(train, val, overrides={**old, "iterations": 2, "feature_cache": cache})
    assert detector.config.learning_rate == FAST["learning_rate"]
    with pytest.raises(ValueError, match="give only 'learning_rate'"):
        train_from_items(train, val, overrides={**FAST, "lr": 0.1})


def test_epochs_become_steps_and_the_file_holds_neither_epochs_nor_the_device(items, tmp_path):
    train, val, cache = items
    overrides = {**FAST, "epochs": 3, "batch_bags": 3, "device": "cpu", "feature_cache": cache}
    detector, report = train_from_items(train, val, overrides=overrides, seed=0)
    assert detector.config.iterations == 3 * 2  # 4 bags of each class, 3 per step: 2 steps per pass
    assert report.curve[-1]["epoch"] == 6
    detector.save(tmp_path / "mil.pt")
    saved = read_payload(tmp_path / "mil.pt").config
    assert saved["iterations"] == 6 and "epochs" not in saved and "device" not in saved
    assert detector.threshold == report.validation_metrics["threshold"] == detector.validation["threshold"]


def test_head_training_follows_its_seed_and_leaves_torchs_global_generator_alone():
    rng = np.random.default_rng(0)
    anomalous, normal = (rng.standard_normal((4, 32, 16)).astype(np.float32) for _ in range(2))
    config = MILConfig(iterations=5)
    before = torch.random.get_rng_state()
    first, _ = train_head(anomalous, normal, config, seed=3, device=torch.device("cpu"))
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.rand(7)  # whatever ran in between does not change a seeded run
    again, _ = train_head(anomalous, normal, config, seed=3, device=torch.device("cpu"))
    other, _ = train_head(anomalous, normal, config, seed=4, device=torch.device("cpu"))
    weights = lambda head: torch.cat([p.detach().flatten() for p in head.parameters()])  # noqa: E731
    assert torch.equal(weights(first), weights(again)) and not torch.equal(weights(first), weights(other))


def test_training_without_anomalous_videos_is_refused(tmp_path):
    normal = [tiny_item(tmp_path, i, anomalous=False) for i in range(2)]
    with pytest.raises(TrainingDataError, match="0 anomalous and 2 normal"):
        train_from_items(normal, [], overrides=FAST)


def test_the_registry_trains_mil_with_this_module():
    assert trainer("mil") is train_from_items


@pytest.mark.slow
def test_a_video_without_frames_scores_empty_and_mismatched_times_are_refused(trained):
    detector, _, val = trained
    empty = detector.score_frames(np.zeros((0, 48, 48, 3), np.uint8), np.zeros(0))
    assert empty.frame_scores.shape == (0,) and empty.events == ()
    with pytest.raises(ValueError, match="4 frames but 3 times"):
        detector.score_frames(val[0].frames.frames[:4], val[0].frames.times[:3])


@pytest.fixture(scope="module")
def trained_hybrid(tmp_path_factory):
    """The default extractor (mobilenet_v2 beside the area's CAE error), its CAE trained here for a few epochs."""
    folder = tmp_path_factory.mktemp("mil-hybrid-videos")
    train = [tiny_item(folder, i, anomalous) for i in range(4) for anomalous in (True, False)]
    val = [tiny_item(folder, 10 + i, anomalous) for i in range(2) for anomalous in (True, False)]
    overrides = {
        **{key: value for key, value in FAST.items() if key != "extractor"},
        "cae_epochs": 3,
        "feature_cache": str(tmp_path_factory.mktemp("features")),
    }
    detector, report = train_from_items(train, val, overrides=overrides, seed=0)
    return detector, report, val


@pytest.mark.slow
def test_the_default_extractor_trains_its_cae_and_ranks_the_anomalous_videos_first(trained_hybrid, tmp_path):
    detector, report, val = trained_hybrid
    assert detector.config.extractor == "mobilenet_v2+cae" and detector.extractor.name == "mobilenet_v2+cae"
    assert report.validation_metrics["video_auc"] == 1.0
    features = detector.extractor.clip_features(val[0].frames.frames)
    assert np.allclose(np.linalg.norm(features[:, :2560], axis=1), 1.0)  # appearance, normalised on its own
    assert np.allclose(np.linalg.norm(features[:, 2560:], axis=1), 1.0)  # the CAE's error statistics
    # the file carries the CAE and its standardisation: it scores the same on its own
    detector.save(tmp_path / "mil.pt")
    loaded = load_detector(tmp_path / "mil.pt")
    assert loaded.extractor.version == detector.extractor.version
    frames, times = val[1].frames.frames, val[1].frames.times
    assert np.allclose(
        loaded.score_frames(frames, times).frame_scores, detector.score_frames(frames, times).frame_scores
    )


@pytest.mark.slow
def test_the_default_extractor_can_take_the_areas_trained_cae_file(trained_hybrid, tmp_path):
    from detection.cae.train import train_from_items as train_cae

    _, _, val = trained_hybrid
    folder = tmp_path / "videos"
    train = [tiny_item(folder, i, anomalous) for i in range(2) for anomalous in (True, False)]
    cae, _ = train_cae([item for item in train if not item.record.is_anomalous], [], overrides={"epochs": 2})
    cae.save(tmp_path / "cae.pt")
    overrides = {**{key: value for key, value in FAST.items() if key != "extractor"}, "iterations": 5,
                 "cae_detector": str(tmp_path / "cae.pt"), "feature_cache": "none"}
    detector, _ = train_from_items(train, val, overrides=overrides)
    cae_weights = {f"cae.{key}": value for key, value in cae.model.state_dict().items()}
    carried = detector.extractor.state_dict()
    assert all(np.array_equal(carried[key].numpy(), value.numpy()) for key, value in cae_weights.items())
    mil_file = tmp_path / "mil.pt"
    detector.save(mil_file)
    with pytest.raises(TrainingDataError, match="not a CAE"):
        train_from_items(train, val, overrides={**overrides, "cae_detector": str(mil_file)})


def test_an_unlabelled_videos_dismissed_spans_are_normal_bags():
    from detection.mil.train import normal_pieces, split_by_label
    from detection.types import SampledFrames

    frames = np.zeros((10, 8, 8, 3), np.uint8)
    record = VideoRecord(Path("u.mp4"), label="", video_id="u", normal_intervals=(Interval(2.0, 5.0), Interval(8.0, 8.2)))
    unlabelled = TrainItem(SampledFrames(frames, np.arange(10.0)), record)
    pieces = normal_pieces(unlabelled)
    assert [list(p.frames.times) for p in pieces] == [[2.0, 3.0, 4.0, 5.0]], "a one-frame span makes no bag"
    assert pieces[0].record.label == "normal" and pieces[0].record.video_id == "u@2.0s"
    bare = TrainItem(SampledFrames(frames, np.arange(10.0)), VideoRecord(Path("b.mp4")))
    anomalous, normal, warnings = split_by_label([unlabelled, bare])
    assert (anomalous, len(normal), warnings) == ([], 1, ["1 unlabelled training videos were left out"])
