"""Masks: polygons in frame fractions; an event peaking in one is dropped."""

import numpy as np
import pytest

from detection.masks import (
    MaskError,
    apply_masks,
    check_polygon,
    drop_masked,
    in_masks,
    mask_grid,
    masked_share,
)
from detection.types import DetectedEvent, VideoScores

LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]


def scores_with(events, heatmaps=None):
    return VideoScores(times=np.arange(4.0), frame_scores=np.ones(4, np.float32), threshold=0.5,
                       events=tuple(events), heatmaps=heatmaps)


def test_an_event_peaking_in_a_mask_is_dropped_and_one_outside_kept():
    inside = DetectedEvent(0.0, 1.0, 0.5, 3.0, peak_x=0.2, peak_y=0.7)
    outside = DetectedEvent(2.0, 3.0, 2.5, 3.0, peak_x=0.8, peak_y=0.3)
    unplaced = DetectedEvent(1.0, 2.0, 1.5, 3.0)  # MIL: no map, nothing says where
    heatmaps = np.full((4, 6, 8), 200, np.uint8)
    masked, dropped = apply_masks(scores_with([inside, outside, unplaced], heatmaps), [LEFT_HALF])
    assert dropped == 1 and masked.events == (outside, unplaced)
    assert masked.heatmaps is heatmaps, "the maps stay: a re-derived event finds its true peak in them"
    assert drop_masked([inside, outside], [LEFT_HALF]) == (outside,)


def test_no_masks_change_nothing():
    scores = scores_with([DetectedEvent(0.0, 1.0, 0.5, 3.0, peak_x=0.2, peak_y=0.7)])
    assert apply_masks(scores, []) == (scores, 0)


def test_the_masked_share_and_point_tests():
    triangle = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    assert masked_share([LEFT_HALF]) == pytest.approx(0.5)
    assert masked_share([triangle]) == pytest.approx(0.5, abs=0.01)
    assert masked_share([LEFT_HALF, LEFT_HALF]) == pytest.approx(0.5), "overlapping masks count once"
    assert in_masks(0.1, 0.1, [triangle]) and not in_masks(0.9, 0.9, [triangle]) and not in_masks(None, 0.1, [triangle])
    assert mask_grid([LEFT_HALF], 4, 2).tolist() == [[True, True, False, False]] * 2


@pytest.mark.parametrize("points, reason", [
    ("x", "list of"), ([(0, 0), (1, 1)], "3 to"), ([(0, 0), (1, 0), (2, 1)], "outside the frame"),
    ([(0, 0), (1, 0), ("a", 1)], "pair of numbers"), ([(0, 0), (0.5, 0.5), (1, 1)], "no area"),
    ([(0, 0), (1, 0), (1,)], "not an \\[x, y\\] pair"), ([(0, 0), (1, 0), (float("nan"), 1)], "outside"),
])
def test_a_bad_polygon_is_refused_with_its_reason(points, reason):
    with pytest.raises(MaskError, match=reason):
        check_polygon(points)


# --- ground masks --------------------------------------------------------------------------------------------

def one_pose(latitude, longitude, yaw, *, altitude=80.0, pitch=-90.0):
    from detection.telemetry import PoseTable

    return PoseTable.from_columns([0.0, 60.0], [latitude] * 2, [longitude] * 2, rel_alt=[altitude] * 2,
                                  yaw=[yaw] * 2, pitch=[pitch] * 2)


@pytest.mark.parametrize("yaw, pitch", [(0.0, -90.0), (135.0, -90.0), (-60.0, -70.0)])
def test_a_ground_point_projects_back_to_the_frame_point_it_was_seen_at(yaw, pitch):
    from detection.mapping.camera import CameraModel, frame_points, ground_latlon

    poses = one_pose(59.42, 18.88, yaw, pitch=pitch).at([10.0])
    camera = CameraModel.for_frame(1280, 720)
    xs, ys = np.array([0.1, 0.5, 0.93, 0.3]), np.array([0.2, 0.5, 0.8, 0.95])
    latitude, longitude = ground_latlon(poses, xs, ys, camera)
    back_x, back_y = frame_points(poses, latitude, longitude, camera)
    np.testing.assert_allclose(back_x, xs, atol=1e-6)
    np.testing.assert_allclose(back_y, ys, atol=1e-6)
    # a kilometre south of a camera looking north and nearly level: behind it, nowhere in the frame
    behind_x, behind_y = frame_points(one_pose(59.42, 18.88, 0.0, pitch=-10.0).at([0.0]), 59.41, 18.88, camera)
    assert np.isnan(behind_x).all() and np.isnan(behind_y).all()


def test_a_ground_mask_drawn_once_drops_the_event_at_that_place_on_a_flight_flown_on_another_heading():
    from detection.mapping.camera import CameraModel, frame_points, ground_latlon
    from detection.masks import GroundMasks, check_ground_polygon, drop_masked

    camera = CameraModel.for_frame(1280, 720)
    # Flight A flies north: the analyst draws a box around a marina in its frame at t = 5 s.
    flight_a = one_pose(59.4200, 18.8800, 0.0)
    box = [(0.6, 0.3), (0.8, 0.3), (0.8, 0.5), (0.6, 0.5)]
    xs, ys = np.array(box).T
    latitude, longitude = ground_latlon(flight_a.at([5.0]), xs, ys, camera)
    marina = check_ground_polygon(list(zip(latitude.tolist(), longitude.tolist())))
    # Flight B, another day, flies south-east 30 m further west: the marina's centre is elsewhere in its frame.
    flight_b = one_pose(59.4200, 18.8800 - 30 / 56_500, 135.0)
    centre_lat, centre_lon = ground_latlon(flight_a.at([5.0]), 0.7, 0.4, camera)
    bx, by = frame_points(flight_b.at([7.0]), centre_lat, centre_lon, camera)
    assert 0 < bx[0] < 1 and 0 < by[0] < 1 and np.hypot(bx[0] - 0.7, by[0] - 0.4) > 0.2
    at_marina = DetectedEvent(6.0, 8.0, 7.0, 3.0, peak_x=float(bx[0]), peak_y=float(by[0]))
    elsewhere = DetectedEvent(6.0, 8.0, 7.0, 3.0, peak_x=0.7, peak_y=0.4)  # where the marina was in A's frame
    ground = GroundMasks((marina,), flight_b, camera)
    assert drop_masked([at_marina, elsewhere], [], ground) == (elsewhere,)
    assert drop_masked([at_marina, elsewhere], [box]) == (at_marina,), "a frame mask stays in the frame"
    # a frame with no pose (long after the telemetry ends) is not masked: nothing says where it looks
    late = DetectedEvent(90.0, 91.0, 90.5, 3.0, peak_x=float(bx[0]), peak_y=float(by[0]))
    assert drop_masked([late], [], ground) == (late,)


def test_the_share_of_each_frame_a_ground_mask_covers_follows_the_flight():
    from detection.mapping.camera import CameraModel, ground_latlon
    from detection.masks import GroundMasks, frame_shares
    from detection.telemetry import PoseTable

    camera = CameraModel.for_frame(1280, 720)
    start = one_pose(59.42, 18.88, 0.0).at([0.0])
    corners = ground_latlon(start, np.array([0.0, 0.5, 0.5, 0.0]), np.array([0.0, 0.0, 1.0, 1.0]), camera)
    left_half = list(zip(*(c.tolist() for c in corners)))
    # flying east by a frame width in 10 s: the left half of the first frame slides out of view
    times = np.array([0.0, 5.0, 10.0])
    east_step = 2 * 80 * camera.half_width_tan / 56_500  # degrees of longitude per frame width at 59.42 N
    poses = PoseTable.from_columns(times, [59.42] * 3, 18.88 + east_step * times / 10, rel_alt=[80.0] * 3,
                                   yaw=[0.0] * 3, pitch=[-90.0] * 3)
    shares = frame_shares(times, [], GroundMasks((left_half,), poses, camera))
    assert shares[0] == pytest.approx(0.5, abs=0.03) and shares[1] == pytest.approx(0.0, abs=0.03)
    fixed = frame_shares(times, [LEFT_HALF], GroundMasks((left_half,), poses, camera))
    assert fixed[0] == pytest.approx(0.5, abs=0.03) and fixed[2] == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("points, reason", [
    ([(59.0, 18.0), (59.0, 18.0001)], "3 to"), ([(95.0, 18.0), (59.0, 18.0), (59.1, 18.1)], "place on Earth"),
    ([(59.0, 18.0), (59.0, 18.0), (59.0, 18.0)], "no area"), ([(59.0, 18.0), "x", (59.1, 18.1)], "pair"),
])
def test_a_bad_ground_polygon_is_refused_with_its_reason(points, reason):
    from detection.masks import check_ground_polygon

    with pytest.raises(MaskError, match=reason):
        check_ground_polygon(points)
