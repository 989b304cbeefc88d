"""Live scoring: one frame at a time, alerts as they happen, and final scores equal to scoring the recording."""

import numpy as np
import pytest

from detection.cae.config import make_config
from detection.cae.train import train_cae
from detection.device import cpu_threads
from detection.live.scoring import LiveScorer, LiveScoringError
from tests.detection.cae_support import scene


@pytest.fixture(scope="module")
def detector():
    config = make_config({"config": "default", "input_size": 32, "epochs": 10, "batch_size": 16, "widths": (8, 16)})
    with cpu_threads(1):
        detector, _ = train_cae(
            [scene(40)], [scene(16, offset=40, box_from=8)], [np.arange(16) >= 8], config=config, seed=0
        )
    return detector


def test_live_raw_scores_and_final_scores_equal_scoring_the_recording(detector):
    frames, times = scene(20, offset=60, box_from=10), np.arange(20) * 0.5
    scorer = LiveScorer(detector)
    live = [scorer.score(t, f) for t, f in zip(times, frames)]
    whole = detector.score_frames(frames, times)
    np.testing.assert_allclose([s.raw for s in live], whole.extras["raw_scores"], rtol=1e-4, atol=1e-5)
    final, rescored = scorer.final_scores(frames, times)
    assert rescored == 0
    np.testing.assert_allclose(final.frame_scores, whole.frame_scores, rtol=1e-4, atol=1e-5)
    assert [(e.start, e.end) for e in final.events] == [(e.start, e.end) for e in whole.events]


def test_frames_the_live_reader_dropped_are_scored_at_the_end_and_only_those(detector):
    frames, times = scene(12, offset=80), np.arange(12) * 0.5
    scorer = LiveScorer(detector)
    for index in (0, 1, 2, 5, 6, 11):
        scorer.score(times[index], frames[index])
    final, rescored = scorer.final_scores(frames, times)
    assert rescored == 6
    np.testing.assert_allclose(final.frame_scores, detector.score_frames(frames, times).frame_scores,
                               rtol=1e-4, atol=1e-5)


def test_an_alert_opens_when_the_box_appears_and_closes_after_the_gap(detector):
    frames, times = scene(24, offset=60, box_from=8), np.arange(24) * 0.5
    frames[14:] = scene(10, offset=74)  # the box leaves at 7 s
    scorer = LiveScorer(detector)
    results = [scorer.score(t, f) for t, f in zip(times, frames)]
    opened = [r for r in results if r.opened]
    closed = [r.changed for r in results if r.changed is not None and not r.changed.open]
    assert opened and 4.0 <= opened[0].time <= 5.0
    assert opened[0].changed.peak_x is not None and 0 <= opened[0].changed.peak_x <= 1
    assert closed and 7.0 <= closed[0].end <= 7.5 and closed[0].peak_score >= detector.threshold


def test_a_detector_that_cannot_score_online_is_refused():
    class Mil:
        kind = "mil"

    with pytest.raises(LiveScoringError, match="LiveScorer scores with a CAE, not a MIL detector"):
        LiveScorer(Mil())
