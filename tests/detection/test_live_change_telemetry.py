"""CHANGE on a live stream whose telemetry arrives as it flies: a frame the received poses cover is matched by
pose, any other visually, and the pose table may grow from another thread while frames are compared."""

from __future__ import annotations

import threading

import pytest

from detection.live.change import ChangeThread, LiveChangeScorer, pose_covers
from detection.telemetry import PoseTable
from tests.detection.test_change_detector import STEP, flight, train_on_textured_world


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("live-change-telemetry")
    detector, world = train_on_textured_world(tmp_path)
    return detector, world, tmp_path


def first(poses: PoseTable, count: int) -> PoseTable:
    """The first `count` poses: what a ground station has sent so far."""
    return PoseTable(*(getattr(poses, name)[:count] for name in
                       ("time", "latitude", "longitude", "rel_alt", "abs_alt", "yaw", "pitch")))


def test_a_pose_covers_a_frame_when_recent_or_between_close_poses():
    poses = PoseTable.from_columns([1.0, 2.0, 10.0], [50.0] * 3, [4.0] * 3)
    assert not pose_covers(None, 1.0) and not pose_covers(first(poses, 0), 1.0)
    assert not pose_covers(poses, 0.9)  # before the first pose
    assert pose_covers(poses, 1.0) and pose_covers(poses, 3.0)  # the newest pose 1 s old at most
    assert not pose_covers(poses, 3.1)  # 1.1 s old, and the next pose 8 s after it: too far to interpolate
    assert pose_covers(poses, 3.1, max_gap=8.0)  # between poses 8 s apart: interpolated
    assert pose_covers(poses, 11.0) and not pose_covers(poses, 11.01)  # held for a second after the last


def test_a_growing_pose_table_picks_references_by_pose_where_it_covers_the_frame_and_visually_elsewhere(trained):
    detector, world, tmp_path = trained
    # Telemetry two frames ahead of the picture: matching by pose then picks other reference frames than
    # matching the picture, so each frame's references show which way it was matched.
    today = flight(world, tmp_path, "today_ahead", seed=20, new=True, east=2 * STEP)
    frames, times = today.frames.frames, today.frames.times  # every 0.5 s
    poses = PoseTable.load(today.record.telemetry)
    # What the station has sent when each frame is compared: nothing for the first two, then up to that frame,
    # then nothing after 1.5 s (the link to the station dropped).
    received = [None, None, first(poses, 3), first(poses, 4), first(poses, 4), first(poses, 4), first(poses, 4),
                first(poses, 4)]
    covered = [False, False, True, True, True, True, False, False]  # 2.5 s: 1 s after the last pose; 3 s: 1.5 s

    growing, visual = LiveChangeScorer(detector), LiveChangeScorer(detector)
    live, seen = [], []
    for t, frame, table in zip(times, frames, received):
        growing.set_poses(table)
        live.append(growing.score(t, frame))
        seen.append(visual.score(t, frame))  # the same flight so far, matched visually only
    assert [s.by_pose for s in live] == covered and not any(s.by_pose for s in seen)
    by_pose = [LiveChangeScorer(detector, poses=table).score(t, frame) if table is not None else None
               for t, frame, table in zip(times, frames, received)]
    for i, result in enumerate(live):
        expected = by_pose[i] if covered[i] else seen[i]
        assert result.references == expected.references, i
        assert result.raw == pytest.approx(expected.raw, rel=1e-4, abs=1e-6), i
    # The test can tell the two ways apart: where telemetry covered the frame, pose and picture disagree.
    assert all(by_pose[i].references != seen[i].references for i in range(len(covered)) if covered[i])


def test_the_thread_counts_frames_matched_by_telemetry_while_poses_arrive_from_another_thread(trained):
    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    poses = PoseTable.load(today.record.telemetry)
    thread = ChangeThread(LiveChangeScorer(detector))
    thread.start()
    results = []
    for i, (t, frame) in enumerate(zip(today.frames.times, today.frames.frames)):
        if i == 4:  # the station's first batch, posted while a comparison may be under way
            sender = threading.Thread(target=thread.scorer.set_poses, args=(poses,))
            sender.start()
            sender.join()
        thread.offer(t, frame)
        while thread.compared + thread.skipped < i + 1:
            results += thread.take()
            threading.Event().wait(0.01)
    thread.stop()
    results += thread.take()
    assert thread.error == "" and thread.compared == len(results) == len(today.frames.times)
    assert [r.by_pose for r in results] == [False] * 4 + [True] * 4
    assert thread.by_telemetry == 4
