import numpy as np
import pytest

from detection.change.timeline import frame_descriptors, match_by_descriptors, match_by_pose
from tests.detection.change_scenes import camera, render, textured_world

WORLD = textured_world(seed=1, size=1200)
SIZE = (160, 120)


def _view(x, y, angle=0.0, scale=1.5):
    return render(WORLD, camera((x, y), angle, scale, SIZE), SIZE)


def test_descriptors_are_unit_float32_rows():
    descriptors = frame_descriptors(np.stack([_view(400, 400), _view(700, 500)]))

    assert descriptors.shape[0] == 2 and descriptors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(descriptors, axis=1), 1.0, rtol=1e-5)
    assert frame_descriptors(np.zeros((0, 120, 160, 3), np.uint8)).shape == (0, descriptors.shape[1])


def test_descriptors_refuse_other_layouts():
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) uint8"):
        frame_descriptors(np.zeros((120, 160, 3), np.uint8))


@pytest.mark.parametrize("angle", [45, 90, 180, -135])
def test_a_turned_view_of_a_place_is_closer_than_any_other_place(angle):
    others = [_view(x, y) for x, y in ((250, 250), (600, 300), (900, 800), (300, 900), (700, 700))]
    frames = np.stack([_view(450, 500), _view(452, 503, angle=angle, scale=1.6), *others])

    descriptors = frame_descriptors(frames)

    similarity = descriptors[1:] @ descriptors[0]
    assert similarity.argmax() == 0


def test_light_and_colour_changes_leave_the_descriptor_close():
    frame = _view(500, 500)
    darker = np.clip(frame * np.array([0.7, 0.65, 0.55]), 0, 255).astype(np.uint8)
    shadow = frame.copy()
    shadow[:, :80] = (shadow[:, :80] * 0.6).astype(np.uint8)
    others = [_view(x, 500) for x in (300, 700, 900)]

    descriptors = frame_descriptors(np.stack([frame, darker, shadow, *others]))

    similarity = descriptors @ descriptors[0]
    assert similarity[1] > 0.95
    assert similarity[2] > similarity[3:].max()


def _line(xs, y=0.0, altitude=100.0):
    xs = np.asarray(xs, dtype=float)
    return np.stack([xs, np.full_like(xs, y), np.full_like(xs, altitude)], axis=1)


def test_pose_matching_takes_the_nearest_frame_of_each_flight_best_first():
    today = _line([0, 10, 20])
    first = _line([1, 11, 21], y=3.0)  # frames 0..2, 3 m to the side
    second = _line([0, 10, 20, 30], y=1.0, altitude=120)  # frames 3..6, 1 m to the side, higher

    matches = match_by_pose(today, [first, second], k=2, max_distance=10.0)

    np.testing.assert_array_equal(matches.reference, [[3, 0], [4, 1], [5, 2]])
    np.testing.assert_allclose(matches.similarity[:, 0], 0.9, rtol=1e-6)
    np.testing.assert_allclose(matches.similarity[:, 1], 1 - np.hypot(1, 3) / 10, rtol=1e-6)
    assert matches.similarity.dtype == np.float32 and not matches.no_reference.any()


def test_a_frame_far_from_every_reference_pose_has_no_reference():
    today = _line([0, 50, 500])
    references = [_line(np.arange(0, 100, 5.0)), _line(np.arange(0, 60, 2.0), y=2.0)]

    matches = match_by_pose(today, references, k=3, max_distance=20.0)

    np.testing.assert_array_equal(matches.no_reference, [False, False, True])
    assert (matches.reference[2] == -1).all() and (matches.similarity[2] == 0).all()
    assert (matches.reference[:2, :2] >= 0).all() and (matches.reference[:, 2] == -1).all()  # only two flights


def test_pose_matching_refuses_bad_poses():
    with pytest.raises(ValueError, match="today_poses"):
        match_by_pose(np.zeros((3, 4)), [_line([0])], k=1, max_distance=1.0)
    with pytest.raises(ValueError, match="not finite"):
        match_by_pose(_line([0, np.nan]), [_line([0])], k=1, max_distance=1.0)
    with pytest.raises(ValueError, match="k must be"):
        match_by_pose(_line([0]), [_line([0])], k=0, max_distance=1.0)


# ------------------------------------------------------------------------------------------------------
# Matching by appearance along a route: x positions in world pixels; a 160x120 frame sees 240x180 of them.

ROUTE_WORLD = textured_world(seed=2, size=1000)


def _flight(xs, heading, seed):
    """Frames along the route at positions xs, with the small daily wobble of heading, height and side."""
    rng = np.random.default_rng(seed)
    views = [camera((x, 500 + 6 * np.sin(x / 70 + seed)), heading + rng.uniform(-5, 5), 1.5 * rng.uniform(0.95, 1.05),
                    SIZE) for x in xs]
    return frame_descriptors(np.stack([render(ROUTE_WORLD, view, SIZE) for view in views]))


def _positions_of(matches, column_flights, xs_per_flight):
    """x of each candidate and the flight it came from, (N, K) each; nan / -1 where there is none."""
    xs = np.concatenate(xs_per_flight)
    flight = np.concatenate([np.full(len(x), f) for f, x in enumerate(xs_per_flight)])
    reference = matches.reference
    return np.where(reference >= 0, xs[reference], np.nan), np.where(reference >= 0, flight[reference], -1)


def test_each_reference_flight_is_followed_at_its_own_start_speed_and_direction():
    today_x = np.arange(200, 800, 12.0)
    skipping = np.concatenate([np.arange(240, 480, 15.0), np.arange(600, 800, 15.0)])  # later start, faster, a gap
    reversed_x = np.arange(800, 200, -9.0)  # flown the other way, slower, camera turned round
    references = [_flight(skipping, 10, seed=1), _flight(reversed_x, 180, seed=2)]

    matches = match_by_descriptors(_flight(today_x, 0, seed=0), references, k=2)

    x, flight = _positions_of(matches, 2, [skipping, reversed_x])
    for f, (xs, step) in enumerate([(skipping, 15), (reversed_x, 9)]):
        nearest = np.abs(today_x[:, None] - xs[None, :]).min(axis=1)
        found = np.where(flight == f, x, np.nan)
        chosen = np.fmax.reduce(found, axis=1)  # the candidate from flight f (at most one per flight)
        has = np.isfinite(chosen)
        error = np.abs(chosen - today_x)[has] - nearest[has]
        assert np.all(error <= 2 * step), (f, today_x[has][error > 2 * step])
        covered = nearest <= step
        assert has[covered].mean() >= 0.9, f
    assert not matches.no_reference.any()


def test_a_stretch_no_reference_covers_has_no_reference():
    today_x = np.arange(200, 800, 12.0)
    references = [_flight(np.arange(200, 550, 14.0), 90, seed=3), _flight(np.arange(550, 200, -11.0), 225, seed=4)]

    matches = match_by_descriptors(_flight(today_x, 0, seed=5), references, k=2)

    assert not matches.no_reference[today_x <= 530].any()
    assert matches.no_reference[today_x >= 670].all()
    assert (matches.reference[matches.no_reference] == -1).all()


def test_descriptor_matching_refuses_descriptors_of_different_widths():
    with pytest.raises(ValueError, match="one width"):
        match_by_descriptors(np.zeros((3, 8), np.float32), [np.zeros((4, 9), np.float32)], k=1)


def test_frames_a_large_change_pushed_off_the_path_are_still_compared():
    today_x = np.arange(200, 600, 12.0)
    reference_x = np.arange(200, 600, 12.0)
    today = _flight(today_x, 0, seed=6)
    changed = np.arange(14, 18)  # a big new object makes these frames look like no reference frame
    today[changed] = frame_descriptors(np.random.default_rng(0).integers(0, 255, (4, *SIZE[::-1], 3), np.uint8))

    matches = match_by_descriptors(today, [_flight(reference_x, 5, seed=7)], k=1)

    assert not matches.no_reference[changed].any()
    assert np.all(np.abs(reference_x[matches.reference[changed, 0]] - today_x[changed]) <= 24)


def test_a_live_flight_so_far_keeps_its_newest_frames_on_the_path_a_change_pushed_off():
    """A live stream's newest frames have no later frame to close the gap: only the causal match compares them."""
    today_x = np.arange(200, 600, 12.0)[:18]  # the flight so far
    reference_x = np.arange(200, 600, 12.0)
    today = _flight(today_x, 0, seed=6)
    changed = np.arange(14, 18)  # a big new object in view for the newest four frames
    today[changed] = frame_descriptors(np.random.default_rng(0).integers(0, 255, (4, *SIZE[::-1], 3), np.uint8))
    reference = _flight(reference_x, 5, seed=7)

    assert match_by_descriptors(today, [reference], k=1).no_reference[changed].all()  # the batch's open end
    matches = match_by_descriptors(today, [reference], k=1, causal=True)

    assert not matches.no_reference[changed].any()
    assert np.all(np.abs(reference_x[matches.reference[changed, 0]] - today_x[changed]) <= 24)


def test_the_causal_path_ends_where_the_reference_flight_ends():
    today_x = np.arange(200, 600, 12.0)
    reference_x = today_x[:-4]  # the reference flight ends where the newest four frames begin
    today = _flight(today_x, 0, seed=6)
    changed = np.arange(len(today_x) - 4, len(today_x))
    today[changed] = frame_descriptors(np.random.default_rng(0).integers(0, 255, (4, *SIZE[::-1], 3), np.uint8))

    matches = match_by_descriptors(today, [_flight(reference_x, 5, seed=7)], k=1, causal=True)

    assert not matches.no_reference[len(reference_x) - 4 : len(reference_x)].any()  # on the path up to its end
    assert matches.no_reference[changed].all()


def test_a_live_flight_is_matched_from_its_first_frames():
    """With four frames or fewer no pair can stand out from its column by the path's gap: the live match asks the
    row alone until the column can tell, so a stream's first frames are compared, at the right place."""
    today_x = np.arange(200, 600, 12.0)
    reference_x = np.arange(200, 600, 12.0)
    today, reference = _flight(today_x, 0, seed=6), _flight(reference_x, 5, seed=7)
    for n in (1, 2, 3, 4, 5, 8):
        so_far = today[:n]
        if n <= 3:  # the rule for a whole flight: too few frames for a column, so none is matched
            assert match_by_descriptors(so_far, [reference], k=1).no_reference.all()
        matches = match_by_descriptors(so_far, [reference], k=1, causal=True)
        assert not matches.no_reference[-1], n
        assert abs(reference_x[matches.reference[-1, 0]] - today_x[n - 1]) <= 24, n


def test_a_live_first_frame_no_reference_flight_shows_has_no_reference():
    reference = _flight(np.arange(200, 500, 12.0), 5, seed=7)
    elsewhere = frame_descriptors(np.random.default_rng(1).integers(0, 255, (1, *SIZE[::-1], 3), np.uint8))
    assert match_by_descriptors(elsewhere, [reference], k=1, causal=True).no_reference.all()
