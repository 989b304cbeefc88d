"""The everyday-object check of `evaluate` (detection.evaluation.everyday): a flag or a false event peaking on
a fixture counts, one on a labelled object or elsewhere does not, and frames with a fixture in view are counted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detection.evaluation import everyday
from detection.telemetry import GeoOrigin, PoseTable
from detection.types import DetectedEvent, Interval

ORIGIN = GeoOrigin(59.42, 18.88)
SIZE = (160, 90)  # (w, h)


def flight(frames: int = 10) -> PoseTable:
    """A nadir camera 60 m up flying north 10 m a second, frame up = north."""
    times = np.arange(frames, dtype=np.float64)
    latitude, longitude = ORIGIN.to_latlon(np.zeros(frames), 10.0 * times)
    return PoseTable.from_columns(times, latitude, longitude, rel_alt=np.full(frames, 60.0), yaw=np.zeros(frames),
                                  pitch=np.full(frames, -90.0))


def fixture_at(north: float) -> everyday.Fixture:
    latitude, longitude = ORIGIN.to_latlon(np.array([0.0]), np.array([north]))
    return everyday.Fixture("moored_boat", float(latitude[0]), float(longitude[0]))


def heatmaps_peaking_at(frames: int, x: float, y: float) -> np.ndarray:
    maps = np.zeros((frames, 18, 32), np.float32)
    maps[:, int(y * 18), int(x * 32)] = 5.0
    return maps


def test_a_flag_peaking_on_a_fixture_counts_and_one_on_a_labelled_object_does_not():
    poses = flight()
    fixtures = (fixture_at(30.0),)  # under the drone at t = 3 s; in view for about +-2.5 s (footprint ~104 m x 59 m)
    times = poses.time
    scores = np.where(times == 3, 2.0, 0.0)  # one frame over the threshold, peaking at the frame centre
    maps = heatmaps_peaking_at(len(times), 0.5, 0.5)
    counts = everyday.count_video(fixtures, 82.1, SIZE, poses, times, scores, 1.0, maps, None, (), ())
    assert counts["flagged_frames"] == 1
    assert 4 <= counts["sightings"] <= 7
    masks = np.zeros(maps.shape, bool)
    masks[3, 9, 16] = True  # a labelled object there (a boat gone from the jetty, a boat alongside it)
    assert everyday.count_video(fixtures, 82.1, SIZE, poses, times, scores, 1.0, maps, masks, (), ())[
        "flagged_frames"] == 0
    elsewhere = heatmaps_peaking_at(len(times), 0.05, 0.05)  # a corner of the frame: about 50 m from the fixture
    assert everyday.count_video(fixtures, 82.1, SIZE, poses, times, scores, 1.0, elsewhere, None, (), ())[
        "flagged_frames"] == 0
    far = (fixture_at(5000.0),)
    assert everyday.count_video(far, 82.1, SIZE, poses, times, scores, 1.0, maps, None, (), ())["sightings"] == 0


def test_a_false_event_peaking_on_a_fixture_counts_and_a_true_one_does_not():
    poses = flight()
    fixtures = (fixture_at(30.0),)
    event = DetectedEvent(2.5, 3.5, 3.0, 2.0, peak_x=0.5, peak_y=0.5)
    none = np.zeros(len(poses))
    counts = everyday.count_video(fixtures, 82.1, SIZE, poses, poses.time, none, 1.0, None, None, (event,), ())
    assert counts["false_events"] == 1
    labelled = (Interval(2.0, 4.0, "boat"),)
    assert everyday.count_video(fixtures, 82.1, SIZE, poses, poses.time, none, 1.0, None, None, (event,),
                                labelled)["false_events"] == 0


def test_fixtures_come_from_the_area_beside_the_manifest(tmp_path):
    manifest = tmp_path / "manifest.csv"
    assert everyday.read_fixtures(manifest) is None  # no area.json: not a generated patrol area
    (tmp_path / "area.json").write_text(json.dumps({"hfov_degrees": 70.0, "fixtures": [
        {"kind": "parked_car", "latitude": 59.4, "longitude": 18.8}]}))
    fixtures, hfov = everyday.read_fixtures(manifest)
    assert fixtures == (everyday.Fixture("parked_car", 59.4, 18.8),) and hfov == 70.0
    (tmp_path / "area.json").write_text("{not json")
    with pytest.raises(ValueError, match="area.json"):
        everyday.read_fixtures(manifest)
    assert everyday.summarise([None, None]) is None
    assert everyday.summarise([{"sightings": 3, "flagged_frames": 1, "false_events": 0}, None])["videos"] == 1
