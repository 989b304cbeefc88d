"""An in-memory evaluation set with known answers, shared by the evaluation runner's tests: six tiny patrols
(a white box is the anomaly), a frame loader, and a spy detector scoring brightness."""

import numpy as np

from detection.evaluation.runner import EvaluationSettings
from detection.events import merge_events
from detection.thresholds import pick_threshold
from detection.types import Interval, SampledFrames, VideoRecord, VideoScores, no_progress
from tests.support.videos import scene_frame

SIDE = 32


def record(name, split, box_from=None, count=12):
    if box_from is None:
        return VideoRecord(path=name, label="normal", split=split, video_id=name)
    interval = Interval(box_from * 0.5, (count - 1) * 0.5, "box")
    return VideoRecord(path=name, label="anomalous", split=split, intervals=(interval,), video_id=name)


RECORDS = [
    record("train/a", "train"),
    record("train/b", "train"),
    record("val/n", "val"),
    record("val/x", "val", box_from=6),
    record("test/n", "test"),
    record("test/x", "test", box_from=4),
]
STARTS = {"train/a": 0, "train/b": 12, "val/n": 3, "val/x": 8, "test/n": 5, "test/x": 10}


def frame_loader(box=(8, 8, 16)):
    def load(record):
        count, start = 12, STARTS[record.video_id]
        box_from = int(record.intervals[0].start * 2) if record.intervals else None
        frames = np.stack(
            [
                scene_frame(start + i, SIDE, SIDE, box if box_from is not None and i >= box_from else None)
                for i in range(count)
            ]
        )
        return SampledFrames(frames, np.arange(count) * 0.5)

    return load


class BrightnessDetector:
    """Scores a frame by its mean brightness: the white box raises it."""

    kind = "spy"

    def __init__(self, threshold, event_max_gap=1.0):
        self.threshold = threshold
        self.event_max_gap = event_max_gap

    def score_frames(self, frames, times, progress=no_progress):
        scores = np.asarray(frames, dtype=np.float64).mean(axis=(1, 2, 3))
        events = merge_events(times, scores, self.threshold, max_gap=self.event_max_gap)
        return VideoScores(times=np.asarray(times), frame_scores=scores, threshold=self.threshold, events=events)


def spy_trainer(seen):
    def train(train_items, val_items, *, overrides, progress, seed):
        seen.append([item.record.video_id for item in [*train_items, *val_items]])
        scores = np.concatenate(
            [
                BrightnessDetector(0).score_frames(i.frames.frames, i.frames.times).frame_scores
                for i in val_items
            ]
        )
        labels = np.concatenate(
            [
                np.arange(len(i.frames.times)) * 0.5
                >= (i.record.intervals[0].start if i.record.intervals else 1e9)
                for i in val_items
            ]
        )
        return BrightnessDetector(pick_threshold(scores, labels).value), SpyReport()

    return train


class SpyReport:
    """What evaluate reads of a trainer's detection.registry.TrainingReport."""

    train_seconds = 0.25
    warnings = ()
    validation_metrics = {"val_normal_median": 0.1}


def evaluation_settings(*specs):
    return EvaluationSettings(detectors=tuple(specs), manifest="in-memory")
