"""The patrol preset on its tiny version: everyday objects at the same world place in every flight, a vanished
boat missing exactly where the ground truth says, masks and world positions from the renderer, DJI sidecars
that read back to the camera path that rendered the frames, and the same files for the same seed (also when
only some of the flights are generated)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pytest

from detection.datasets.manifest import read_manifest
from detection.synth import generate
from detection.synth.camera import world_to_frame
from detection.synth.generate import plan_video, prepare_area, video_tasks
from detection.synth.groundtruth import load_groundtruth
from detection.synth.presets import PATROL, PATROL_BENCH, PATROL_TINY
from detection.synth.sidecar import AreaMap
from detection.telemetry import read_telemetry

SPEC = PATROL_TINY
FRAMES = int(SPEC.seconds * SPEC.fps)


@pytest.fixture(scope="module")
def patrol_set(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("patrol") / "out", preset="patrol_tiny", seed=0, jobs=1)


@pytest.fixture(scope="module")
def scenes(patrol_set):
    """Each flight's scene rebuilt from the seed, as the generator rendered it."""
    prepare_area(SPEC, 0)
    return [plan_video(task) for task in video_tasks(SPEC, patrol_set.parent)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_the_manifest_names_each_flight_its_sidecar_and_its_planned_classes(patrol_set):
    records = read_manifest(patrol_set)  # checks that the videos and sidecars exist
    plans = SPEC.datasets[0].videos
    assert patrol_set.read_text().splitlines()[0] == "video,label,split,intervals,classes,telemetry"
    for record, plan in zip(records, plans):
        assert record.telemetry == record.path.with_suffix(".SRT")
        assert {i.anomaly_class for i in record.intervals} == set(plan.classes)
        truth = load_groundtruth(record.path)
        assert truth.frame_count == FRAMES and truth.size == (SPEC.height, SPEC.width)
        assert truth.object_latlon.shape == (len(truth.object_frame), 2)


EVERY_CLASS = {"boat", "person", "car", "drone", "debris", "fire", "smoke", "vanished"}


def test_the_full_preset_has_every_class_in_validation_and_test_and_keyframes_every_two_seconds():
    plans = PATROL.datasets[0].videos
    for split in ("val", "test"):
        assert set().union(*(p.classes for p in plans if p.split == split)) == EVERY_CLASS, split
    assert sum(p.split == "train" and not p.classes for p in plans) == 8
    assert (PATROL.width, PATROL.height, PATROL.seconds, PATROL.keyint / PATROL.fps) == (1280, 720, 60.0, 2.0)
    assert len({p.path for p in plans}) == len(plans)


def test_the_anomalous_training_flights_come_last_on_training_days_with_every_class():
    """MIL learns from anomalous and normal training videos. Appended, the two flights leave every earlier
    flight's seed (its number in the list) and so its files as they were; flown on training days in mid-season,
    they bring no vegetation tint that only anomalies have."""
    plans = PATROL.datasets[0].videos
    anomalous = [p for p in plans if p.split == "train" and p.classes]
    assert plans[-len(anomalous):] == tuple(anomalous) and len(anomalous) == 2
    assert set().union(*(p.classes for p in anomalous)) == EVERY_CLASS
    normal_days = {p.day for p in plans if p.split == "train" and not p.classes}
    for plan in anomalous:
        assert plan.day in normal_days and plan.hours_later > 0 and plan.path.endswith("afternoon.mp4")
    tiny = PATROL_TINY.datasets[0].videos
    assert any(p.split == "train" and p.classes for p in tiny) and any(p.split == "test" and not p.classes for p in tiny)


def test_the_bench_preset_is_the_full_one_less_half_its_normal_training_flights():
    plans = PATROL.datasets[0].videos
    chosen = [p for p in plans if p.path in PATROL_BENCH.flights]
    left_out = [p for p in plans if p.path not in PATROL_BENCH.flights]
    assert len(left_out) == 4 and all(p.split == "train" and not p.classes for p in left_out)
    assert sum(p.split == "train" and not p.classes for p in chosen) == 4
    assert (PATROL_BENCH.width, PATROL_BENCH.height, PATROL_BENCH.seconds) == (1280, 720, 60.0)
    assert PATROL_BENCH.datasets == PATROL.datasets  # the same list, so the same seeds


def test_some_flights_alone_are_the_same_files_as_in_the_whole_preset(patrol_set, tmp_path):
    flights = ("day02/patrol.mp4", "day05/patrol.mp4")
    some = generate(tmp_path / "some", preset="patrol_tiny", seed=0, jobs=1, flights=flights)
    assert [record.video_id for record in read_manifest(some)] == list(flights)
    for name in ["area.json"] + [str(Path(f).with_suffix(s)) for f in flights for s in (".mp4", ".SRT", ".gt.npz")]:
        assert digest(some.parent / name) == digest(patrol_set.parent / name), name
    with pytest.raises(ValueError, match="no video day99"):
        generate(tmp_path / "none", preset="patrol_tiny", flights=("day99/patrol.mp4",))


def test_an_afternoon_flight_takes_off_five_hours_after_the_morning_time(patrol_set):
    starts = {}
    for line in patrol_set.read_text().splitlines()[1:]:
        sidecar = patrol_set.parent / line.split(",")[-1]
        starts[sidecar.parent.name, sidecar.stem] = sidecar.read_text().splitlines()[3]
    assert starts["day01", "patrol"] == "2026-06-01 09:30:00.000"
    assert starts["day04", "afternoon"] == "2026-06-19 14:30:00.000"  # day 4 is 3 x 6 days later


def test_keyframes_come_at_the_preset_interval(patrol_set):
    with av.open(str(patrol_set.parent / "day01" / "patrol.mp4")) as container:
        keys = [n for n, packet in enumerate(container.demux(video=0)) if packet.is_keyframe]
    assert keys == list(range(0, FRAMES, SPEC.keyint))


def test_the_sidecar_reads_back_to_the_camera_path_that_rendered_the_frames(patrol_set, scenes):
    area = AreaMap(SPEC.area, SPEC.world_size)
    times = np.arange(FRAMES) / SPEC.fps
    for record, scene in zip(read_manifest(patrol_set), scenes):
        poses = read_telemetry(record.telemetry)
        assert np.allclose(poses.time, times) and np.all(poses.pitch == -90.0)
        camera = area.camera(poses, SPEC.width)
        rendered = np.array([scene.flight.pose(t) for t in times])
        assert np.abs(camera[:, :2] - rendered[:, :2]).max() < 0.5  # 6 decimals of a degree: under 0.12 m
        turn = np.angle(np.exp(1j * (camera[:, 2] - rendered[:, 2])))
        assert np.degrees(np.abs(turn)).max() <= 0.051  # yaw written to 0.1 degree
        assert np.allclose(camera[:, 3], rendered[:, 3], rtol=1e-4)
        # The video's frames are what that camera path renders (up to the codec), frame by frame.
        video = decoded(record.path)
        for index in (0, FRAMES // 2):
            frame = scene.renderer.render(times[index], index)[0] * 255
            error = np.abs(video[index] - frame).mean()
            assert error < 4.0 and error < 0.5 * np.abs(video[index + 1] - frame).mean()


def test_the_area_map_by_hand_north_is_yaw_0_east_is_yaw_90_and_altitude_follows_the_footprint():
    area = AreaMap(PATROL.area, 3072)  # 0.25 m per world px, origin at the world's centre (1536, 1536)
    camera = np.array([[1536.0, 1536.0, -np.pi / 2, 0.625], [1936.0, 1136.0, 0.0, 0.625]])
    poses = area.poses(camera, np.array([0.0, 1.0]), 1280)
    assert (poses.latitude[0], poses.longitude[0]) == pytest.approx(PATROL.area.origin)
    # 400 px east and north are 100 m: 100 / 6,371,008.8 rad of latitude, and of longitude over cos(latitude).
    assert poses.latitude[1] - poses.latitude[0] == pytest.approx(np.degrees(100 / 6_371_008.8))
    assert poses.longitude[1] - poses.longitude[0] == pytest.approx(
        np.degrees(100 / (6_371_008.8 * np.cos(np.radians(59.4213)))))
    assert poses.yaw == pytest.approx([0.0, 90.0])  # frame up to the north (world -y), then to the east
    # 0.625 world px per frame px x 1280 px x 0.25 m = 200 m across; half of it over tan(82.1 / 2 degrees).
    assert poses.rel_alt == pytest.approx([100 / np.tan(np.radians(41.05))] * 2)
    assert poses.abs_alt - poses.rel_alt == pytest.approx([4.0, 4.0])


def test_the_drone_flies_where_its_recorded_yaw_points(patrol_set):
    for record in read_manifest(patrol_set):
        poses = read_telemetry(record.telemetry)
        east, north = AreaMap(SPEC.area, SPEC.world_size).origin.to_metres(poses.latitude, poses.longitude)
        bearing = np.degrees(np.arctan2(np.diff(east), np.diff(north)))
        off = (bearing - poses.yaw[:-1] + 180) % 360 - 180
        assert np.median(np.abs(off)) < 25.0, record.video_id


def test_everyday_objects_are_at_the_same_world_place_in_every_flight(patrol_set, scenes):
    listed = json.loads((patrol_set.parent / "area.json").read_text())["fixtures"]
    assert {f["kind"] for f in listed} == {"moored_boat", "parked_car", "buoy"}
    area = AreaMap(SPEC.area, SPEC.world_size)
    for scene in scenes:
        gone = int(scene.notes["vanished_fixture"])
        places = [fixture.pose_at(0.0)[:2] for fixture in scene.renderer.fixtures]
        expected = [(f["world_x"], f["world_y"]) for f in listed if f["index"] != gone]
        assert np.allclose(places, expected, atol=1e-3)
        for fixture, entry in zip(scene.renderer.fixtures, (f for f in listed if f["index"] != gone)):
            latitude, longitude = area.latlon(*fixture.pose_at(0.0)[:2])
            assert (latitude, longitude) == pytest.approx((entry["latitude"], entry["longitude"]), abs=1e-7)
    first = scenes[0].renderer
    seen = _fixture_in_view(first, 0)
    assert seen is not None, "the patrol never passes the jetty's first boat"
    index, (u, v) = seen
    with_it = first.render(index / SPEC.fps, index)[0]
    without = first.render(index / SPEC.fps, index, skip_fixtures=(0,))[0]
    changed = np.argwhere(np.abs(with_it - without).max(axis=-1) > 0.02)
    assert len(changed) > 4 and np.hypot(*(changed.mean(axis=0) - (v, u))) < 4.0  # drawn where it is


def _fixture_in_view(renderer, number):
    """(frame index, frame (u, v)) where fixture `number` comes nearest the frame centre, or None."""
    best = None
    for index in range(FRAMES):
        pose = renderer.flight.pose(index / SPEC.fps)
        x, y, _ = renderer.fixtures[number].pose_at(0.0)
        u, v = world_to_frame(pose, x, y, (SPEC.height, SPEC.width))
        off = np.hypot(u - SPEC.width / 2, v - SPEC.height / 2)
        if 8 < u < SPEC.width - 8 and 8 < v < SPEC.height - 8 and (best is None or off < best[0]):
            best = (off, index, (float(u), float(v)))
    return None if best is None else best[1:]


def test_a_vanished_boat_is_missing_exactly_where_the_ground_truth_says(patrol_set, scenes):
    records = read_manifest(patrol_set)
    for record, scene in zip(records, scenes):
        renderer = scene.renderer
        vanished = [k for k, a in enumerate(renderer.anomalies) if a.anomaly_class == "vanished"]
        if not vanished:
            assert scene.notes["vanished_fixture"] == -1.0
            continue
        k = vanished[0]
        assert len(renderer.fixtures) == len(scenes[0].renderer.fixtures) - 1
        truth = load_groundtruth(record.path)
        cls = truth.class_names.index("vanished")
        index = int(np.median(truth.object_frame[truth.object_class == cls]))
        t = index / SPEC.fps
        frame, masks = renderer.render(t, index)
        restored = copy.copy(renderer)
        restored.fixtures = renderer.fixtures + (renderer.anomalies[k],)  # the boat back at its mooring
        with_boat = restored.render(t, index, skip=(k,))[0]
        mask = dict(masks)[k]
        change = np.abs(with_boat - frame).max(axis=-1)
        assert (change[mask] > 0.02).mean() >= 0.9
        assert change[~mask].max() <= 0.2 * 1.3 + 0.02  # only the boat's faint edge lies outside the mask
        assert np.array_equal(truth.masks_at([t])[0], np.logical_or.reduce([m for _, m in masks]))
        row = np.flatnonzero((truth.object_frame == index) & (truth.object_class == cls))[0]
        place = AreaMap(SPEC.area, SPEC.world_size).latlon(*renderer.anomalies[k].pose_at(t)[:2])
        assert truth.object_latlon[row] == pytest.approx(place, abs=1e-9)


@pytest.mark.parametrize("number", [2, 3], ids=["person and vanished boat", "anomalous training flight"])
def test_every_frame_mask_and_world_position_comes_from_the_renderer(patrol_set, scenes, number):
    area = AreaMap(SPEC.area, SPEC.world_size)
    record, scene = read_manifest(patrol_set)[number], scenes[number]
    truth = load_groundtruth(record.path)
    assert len(truth.object_frame) > 0
    for index in range(0, FRAMES, 3):
        t = index / SPEC.fps
        masks = scene.renderer.render(t, index)[1]
        union = np.zeros((SPEC.height, SPEC.width), bool)
        for _, mask in masks:
            union |= mask
        assert np.array_equal(truth.masks_at([t])[0], union)
        rows = np.flatnonzero(truth.object_frame == index)
        assert len(rows) == len(masks)
        for row, (k, mask) in zip(rows, masks):
            assert truth.class_names[truth.object_class[row]] == scene.renderer.anomalies[k].anomaly_class
            assert truth.object_pixels[row] == mask.sum()
            assert truth.object_latlon[row] == pytest.approx(area.latlon(*scene.renderer.anomalies[k].pose_at(t)[:2]))


def test_days_differ_in_light_tide_season_and_take_off_but_not_in_ground_speed(scenes):
    looks = [scene.look for scene in scenes]
    assert len({round(look.tide, 6) for look in looks}) == len(looks)
    assert len({round(look.sun_azimuth, 6) for look in looks}) == len(looks)
    assert [look.season for look in looks] == sorted(look.season for look in looks)  # days 1, 2, 3
    speeds = np.array([scene.flight.speed for scene in scenes])
    assert speeds.max() / speeds.min() < 1.07
    assert len({round(scene.flight.start, 6) for scene in scenes}) == len(scenes)


def test_the_same_seed_gives_the_same_files_with_one_or_two_workers(patrol_set, tmp_path):
    again = generate(tmp_path / "again", preset="patrol_tiny", seed=0, jobs=2)
    names = ["manifest.csv", "area.json"] + [
        str(Path(plan.path).with_suffix(suffix)) for plan in SPEC.datasets[0].videos
        for suffix in (".mp4", ".SRT", ".gt.npz")
    ]
    for name in names:
        assert digest(again.parent / name) == digest(patrol_set.parent / name), name
    other = generate(tmp_path / "other", preset="patrol_tiny", seed=1, jobs=1)
    assert digest(other.parent / "day01" / "patrol.SRT") != digest(patrol_set.parent / "day01" / "patrol.SRT")
