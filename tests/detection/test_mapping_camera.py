"""The camera model: frame points to the ground, with answers worked out by hand and against the generator."""

import numpy as np
import pytest

from detection.mapping.camera import CameraModel, ground_latlon, ground_offsets, locate, locate_peaks
from detection.telemetry import GeoOrigin, PoseTable

SQUARE_90 = CameraModel(hfov_degrees=90.0, aspect=0.5)  # tan(45°) = 1: the frame spans 2 heights across


def poses(yaw=0.0, pitch=-90.0, rel_alt=100.0, count=1):
    return PoseTable.from_columns(np.arange(count, dtype=float), np.full(count, 59.4), np.full(count, 18.9),
                                  rel_alt=np.full(count, rel_alt), yaw=np.full(count, yaw),
                                  pitch=np.full(count, pitch))


@pytest.mark.parametrize(("x", "y", "yaw", "east", "north"), [
    (0.5, 0.5, 0.0, 0.0, 0.0),  # the centre is under the drone
    (1.0, 0.5, 0.0, 100.0, 0.0),  # right edge, facing north: one height east
    (0.5, 0.0, 0.0, 0.0, 50.0),  # top edge (the frame is half as high as wide): half a height ahead
    (1.0, 0.5, 90.0, 0.0, -100.0),  # facing east, the right edge is south
    (0.5, 0.0, 90.0, 50.0, 0.0),  # facing east, the top edge is east
    (0.0, 1.0, 180.0, 100.0, 50.0),  # facing south: bottom-left is north-east
])
def test_a_nadir_camera_maps_frame_points_by_hand(x, y, yaw, east, north):
    got_east, got_north = ground_offsets(poses(yaw=yaw), x, y, SQUARE_90)
    assert (got_east[0], got_north[0]) == pytest.approx((east, north), abs=1e-9)


def test_a_tilted_gimbal_looks_ahead_and_the_horizon_has_no_position():
    east, north = ground_offsets(poses(pitch=-45.0), 0.5, 0.5, SQUARE_90)
    assert (east[0], north[0]) == pytest.approx((0.0, 100.0))  # 45° down from 100 m: 100 m ahead
    east, north = ground_offsets(poses(pitch=0.0), 0.5, 0.5, SQUARE_90)
    assert np.isnan(east[0]) and np.isnan(north[0])


def test_a_missing_pitch_is_taken_as_nadir_and_a_missing_height_gives_no_position():
    east, _ = ground_offsets(poses(pitch=np.nan), 1.0, 0.5, SQUARE_90)
    assert east[0] == pytest.approx(100.0)
    east, _ = ground_offsets(poses(rel_alt=np.nan), 1.0, 0.5, SQUARE_90)
    assert np.isnan(east[0])


def test_ground_latlon_adds_the_offset_to_the_drone_position():
    latitude, longitude = ground_latlon(poses(), 1.0, 0.0, SQUARE_90)
    east, north = GeoOrigin(59.4, 18.9).to_metres(latitude, longitude)
    assert (east[0], north[0]) == pytest.approx((100.0, 50.0), abs=1e-3)


def test_locate_takes_times_in_any_order_with_repeats():
    table = PoseTable.from_columns([0.0, 10.0], [59.4, 59.4], [18.9, 18.9], rel_alt=[100.0, 100.0],
                                   yaw=[0.0, 90.0], pitch=[-90.0, -90.0])
    latitude, longitude = locate(table, [10.0, 0.0, 10.0], [1.0, 1.0, 0.5], [0.5, 0.5, 0.5], SQUARE_90)
    east, north = GeoOrigin(59.4, 18.9).to_metres(latitude, longitude)
    assert east == pytest.approx([0.0, 100.0, 0.0], abs=1e-3)
    assert north == pytest.approx([-100.0, 0.0, 0.0], abs=1e-3)


def test_a_peakless_event_is_placed_under_the_drone_and_one_outside_the_flight_nowhere():
    table = poses(count=11)  # 0..10 s
    latitude, longitude = locate_peaks(table, [5.0, 5.0, 11.5, 12.5], [1.0, None, 1.0, 1.0], [0.5, None, 0.5, 0.5],
                                       SQUARE_90)
    east, north = GeoOrigin(59.4, 18.9).to_metres(latitude[:3], longitude[:3])
    assert east == pytest.approx([100.0, 0.0, 100.0], abs=1e-3) and north == pytest.approx([0.0] * 3, abs=1e-3)
    assert np.isnan(latitude[3]) and np.isnan(longitude[3])  # 2.5 s after the last pose: MAX_POSE_GAP is 2 s
    assert [len(v) for v in locate_peaks(table, [], [], [], SQUARE_90)] == [0, 0]


def test_an_events_marker_error_is_to_the_object_its_peak_is_on():
    """Two objects in frame 1 of a 100x50 frame seen by SQUARE_90 from 100 m (2 m a pixel): the peak on the
    second one's box, its marker 3 m east of the object's true position."""
    from detection.mapping.accuracy import event_marker_errors
    from detection.synth.groundtruth import GroundTruth
    from detection.types import DetectedEvent

    origin = GeoOrigin(59.4, 18.9)
    truth_latlon = np.array(origin.to_latlon(np.array([-40.0, 20.0]), np.array([0.0, 10.0]))).T
    truth = GroundTruth(fps=1.0, size=(50, 100), class_names=("boat",), masks=np.zeros((3, 625), np.uint8),
                        object_frame=np.array([1, 1]), object_class=np.array([0, 0]),
                        object_box=np.array([[20, 20, 30, 30], [55, 15, 65, 25]]), object_pixels=np.array([100, 100]),
                        notes={}, object_latlon=truth_latlon)
    events = [DetectedEvent(1.0, 1.0, 1.2, 5.0, 0.61, 0.4),  # on the second box
              DetectedEvent(1.0, 1.0, 1.2, 5.0, 0.9, 0.9),  # beside both
              DetectedEvent(0.0, 0.0, 0.3, 5.0, 0.61, 0.4)]  # frame 0 shows no object
    latitude, longitude = origin.to_latlon(np.array([23.0, 0.0, 0.0]), np.array([10.0, 0.0, 0.0]))
    errors, in_view = event_marker_errors(truth, events, latitude, longitude)
    assert in_view.tolist() == [True, True, False]
    assert errors[0] == pytest.approx(3.0, abs=1e-3) and np.isnan(errors[1:]).all()


def test_it_rejects_an_impossible_field_of_view():
    with pytest.raises(ValueError, match="field of view"):
        CameraModel(hfov_degrees=180.0)


def test_it_agrees_with_the_generators_own_camera():
    """The patrol generator renders frames with detection.synth.camera and writes the telemetry from the same
    path: both models must put every frame pixel at the same place (conventions of yaw, axes, field of view)."""
    from detection.synth import camera as synth_camera
    from detection.synth.presets import AreaSettings
    from detection.synth.sidecar import AreaMap

    area = AreaMap(AreaSettings(), 1024)
    rng = np.random.default_rng(0)
    size = (180, 320)  # height, width
    camera_poses = np.stack([rng.uniform(300, 700, 6), rng.uniform(300, 700, 6), rng.uniform(-np.pi, np.pi, 6),
                             rng.uniform(0.5, 1.2, 6)], axis=1)
    telemetry = area.poses(camera_poses, np.arange(6.0), size[1])
    model = CameraModel.for_frame(size[1], size[0], AreaSettings().hfov_degrees)
    for u, v in [(0, 0), (319, 179), (40, 150), (200, 30)]:
        world_x, world_y = synth_camera.frame_to_world(camera_poses.T, u, v, size)
        want_lat, want_lon = area.latlon(world_x, world_y)
        got_lat, got_lon = ground_latlon(telemetry, (u + 0.5) / size[1], (v + 0.5) / size[0], model)
        east, north = area.origin.to_metres(got_lat, got_lon)
        want_east, want_north = area.origin.to_metres(want_lat, want_lon)
        assert np.hypot(east - want_east, north - want_north).max() < 0.01
