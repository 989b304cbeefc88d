"""CHANGE on a live stream: the newest frame compared with the reference flights one at a time, online matching
(telemetry, else visual retrieval over the flight so far), causal persistence, and a thread that never queues."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from detection.change.detector import STATUS_OK, ChangeDetector
from detection.live.change import ChangeThread, LiveChangeScorer
from detection.live.scoring import LiveScoringError
from detection.telemetry import PoseTable
from tests.detection.test_change_detector import FRAMES, flight, train_on_textured_world


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("live-change")
    detector, world = train_on_textured_world(tmp_path)
    return detector, world, tmp_path


def test_with_telemetry_each_live_frame_scores_as_in_the_batch_pass(trained):
    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    frames, times = today.frames.frames, today.frames.times
    poses = PoseTable.load(today.record.telemetry)
    batch = detector.score_frames(frames, times, poses=poses)
    scorer = LiveChangeScorer(detector, poses=poses)
    live = [scorer.score(t, f) for t, f in zip(times, frames)]
    np.testing.assert_allclose([s.raw for s in live], batch.extras["raw_scores"], rtol=1e-4, atol=1e-6)
    assert [s.status for s in live] == list(batch.extras["frame_status"])
    (event,) = batch.events  # persistence 1: the live alert is the batch's event, as it happens
    assert [s.time for s in live if s.opened] == [event.start]
    alert = scorer.close()
    assert (alert.start, alert.end, alert.peak_time) == (event.start, event.end, event.peak_time)
    assert abs(alert.peak_x - event.peak_x) < 0.02 and abs(alert.peak_y - event.peak_y) < 0.02


def test_without_telemetry_the_flight_so_far_is_matched_visually(trained):
    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    batch = detector.score_frames(today.frames.frames, today.frames.times)  # the whole flight matched at once
    scorer = LiveChangeScorer(detector)
    live = [scorer.score(t, f) for t, f in zip(today.frames.times, today.frames.frames)]
    status = np.array([s.status for s in live])
    # From the first frame on: the flight's few frames so far are matched by the row alone (timeline).
    assert status[0] == STATUS_OK and (status == STATUS_OK).sum() >= FRAMES // 2
    assert all(s.score == 0 for s in live if s.status != STATUS_OK)
    matched = status == STATUS_OK
    np.testing.assert_allclose(np.array([s.raw for s in live])[matched], batch.extras["raw_scores"][matched],
                               rtol=1e-4, atol=1e-6)
    assert [s.time for s in live if s.opened] == [batch.events[0].start]


def test_an_alert_waits_for_the_change_to_last_persistence_comparisons(trained, monkeypatch):
    detector, world, tmp_path = trained
    monkeypatch.delitem(detector.extra, "single_frame_ratio")  # a detector file from before the single level
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    poses = PoseTable.load(today.record.telemetry)
    once = LiveChangeScorer(detector, poses=poses)
    twice = LiveChangeScorer(detector, poses=poses)
    twice._recent = type(twice._recent)(maxlen=2)  # persistence 2, as a detector trained with it keeps
    first = [once.score(t, f) for t, f in zip(today.frames.times, today.frames.frames)]
    second = [twice.score(t, f) for t, f in zip(today.frames.times, today.frames.frames)]
    raw = [s.raw for s in first]
    assert [s.score for s in second] == pytest.approx([0.0] + [min(a, b) for a, b in zip(raw, raw[1:])])
    assert next(s.time for s in second if s.opened) > next(s.time for s in first if s.opened)


def test_with_persistence_on_the_ground_the_live_score_is_the_batch_pairs_causal_half(trained, monkeypatch):
    """The batch keeps each frame's change where the previous or the next compared frame sees it on the ground;
    live, the next frame has not come yet: each frame's score is its pair with the previous one, in its view,
    so it is never above the batch's and an alert waits for the change to last two comparisons."""
    detector, world, tmp_path = trained
    ground = ChangeDetector(dataclasses.replace(detector.config, persistence=2, ground_radius=8), detector.index,
                            detector.threshold, extra={})
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    poses = PoseTable.load(today.record.telemetry)
    frames, times = today.frames.frames, today.frames.times
    batch = ground.score_frames(frames, times, poses=poses)
    scorer = LiveChangeScorer(ground, poses=poses)
    live = [scorer.score(t, f) for t, f in zip(times, frames)]
    np.testing.assert_allclose([s.raw for s in live], batch.extras["raw_scores"], rtol=1e-4, atol=1e-6)
    scores = np.array([s.score for s in live])
    assert scores[0] == 0 and np.all(scores <= batch.frame_scores + 1e-4)
    # frame i with i-1 (live, at i) or with i+1 (live at i+1, in that frame's view: nearly the same)
    pairs = [max(a, b) for a, b in zip(scores[1:], scores[2:])] + [scores[-1]]
    np.testing.assert_allclose(batch.frame_scores[1:], pairs, rtol=0.02, atol=0.5)
    opened = [s.time for s in live if s.opened]
    assert opened and opened[0] >= batch.events[0].start and live[0].score < ground.threshold


def test_one_comparison_as_rare_as_the_threshold_alerts_without_waiting(trained, monkeypatch):
    """The detector keeps the validation normals' false-alarm quantile of single comparisons as a ratio to its
    threshold: a comparison at that level alerts at once, one between the two levels waits for the next."""
    detector, world, tmp_path = trained
    assert detector.extra["single_frame_ratio"] >= 1.0  # trained: the single comparisons' quantile is no lower
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    poses = PoseTable.load(today.record.telemetry)

    def live(ratio, threshold):
        monkeypatch.setitem(detector.extra, "single_frame_ratio", ratio)
        scorer = LiveChangeScorer(detector, poses=poses, threshold=threshold)
        scorer._recent = type(scorer._recent)(maxlen=2)  # persistence 2
        return scorer, [scorer.score(t, f) for t, f in zip(today.frames.times, today.frames.frames)]

    waiting, scores = live(None, None)
    raw = np.array([s.raw for s in scores])
    first = int(np.argmax(raw >= waiting.threshold))
    assert raw[first] >= waiting.threshold and waiting.single_threshold == float("inf")
    assert next(i for i, s in enumerate(scores) if s.opened) > first  # persistence: the next comparison too
    # A ratio that puts the single level at that first comparison's raw score: it alerts at once, on the
    # threshold's scale; an admin's threshold moves the single level with it.
    threshold = waiting.threshold
    at_once, scores = live(float(raw[first]) / threshold, None)
    assert at_once.single_threshold == pytest.approx(float(raw[first]))
    opened = next(i for i, s in enumerate(scores) if s.opened)
    assert opened == first and scores[opened].score == pytest.approx(threshold)
    assert live(2.0, 3.0)[0].single_threshold == pytest.approx(6.0)
    assert all(s.score == pytest.approx(min(a, b)) for s, a, b in zip(scores[1:], raw, raw[1:])
               if s.raw < at_once.single_threshold)  # below the single level: persistence as before


def test_the_thread_compares_the_newest_frame_and_skips_the_rest(trained):
    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    thread = ChangeThread(LiveChangeScorer(detector, poses=PoseTable.load(today.record.telemetry)))
    thread.start()
    for t, f in zip(today.frames.times, today.frames.frames):
        thread.offer(t, f)  # all at once: far faster than it compares
    thread.stop()
    results = thread.take()
    times = [r.time for r in results]
    assert thread.error == "" and thread.skipped >= 1 and thread.compared + thread.skipped == FRAMES
    assert thread.warmed_in is not None and thread.warmed_in > 0  # one comparison before the first frame
    assert times == sorted(times) and times[-1] == today.frames.times[-1]  # the newest frame is always compared
    assert thread.take() == []


def test_a_wrong_detector_or_frame_is_a_clear_error(trained):
    detector, world, tmp_path = trained
    with pytest.raises(LiveScoringError, match="takes a CHANGE detector, not cae"):
        LiveChangeScorer(dataclasses.make_dataclass("Cae", [("kind", str, "cae")])())
    thread = ChangeThread(LiveChangeScorer(detector))
    thread.start()
    thread.offer(0.0, np.zeros((96, 96, 3), np.uint8))  # square: not the reference flights' 160x96
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "do not have the aspect of the reference flights" in thread.error
