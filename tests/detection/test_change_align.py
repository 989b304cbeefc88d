import cv2
import numpy as np
import pytest

from detection.change.align import (
    Alignment,
    AlignSettings,
    align_pair,
    align_with_keypoints,
    frame_keypoints,
    scale_homography,
    warp_reference,
)
from tests.detection.change_scenes import camera, render, reprojection_error, textured_world, water

WORLD = textured_world()


def _pair(size, angle, scale, shift):
    """Today's view and a reference view of the same place, and the true reference -> today homography."""
    gsd = 0.6 * 640 / size[0]
    today_camera = camera((450, 450), 0, gsd, size)
    reference_camera = camera((450 + shift[0], 450 + shift[1]), angle, gsd * scale, size)
    true = np.linalg.inv(today_camera) @ reference_camera
    return render(WORLD, today_camera, size), render(WORLD, reference_camera, size), true / true[2, 2]


@pytest.mark.parametrize("size", [(160, 120), (1280, 720)])
@pytest.mark.parametrize(("angle", "scale", "shift"), [
    (0, 1.0, (12, -8)), (20, 1.15, (-20, 10)), (45, 0.85, (10, 15)), (180, 1.0, (-6, 4)), (-135, 1.2, (0, -12)),
])
def test_it_recovers_a_known_rotation_scale_and_translation(size, angle, scale, shift):
    today, reference, true = _pair(size, angle, scale, shift)

    alignment = align_pair(today, reference)

    assert alignment.ok and alignment.method in ("features", "features+ecc")
    assert alignment.inliers >= AlignSettings().min_inliers
    assert reprojection_error(alignment.homography, true, size) < 1.5
    assert 0.3 < alignment.overlap <= 1.0


def test_keypoints_computed_once_give_the_same_alignment():
    today, reference, true = _pair((640, 360), 20, 1.1, (10, -6))

    direct = align_pair(today, reference)
    reused = align_with_keypoints(today, reference, frame_keypoints(today), frame_keypoints(reference))

    assert reused.method == direct.method and reused.inliers == direct.inliers
    np.testing.assert_allclose(reused.homography, direct.homography, atol=1e-6)
    with pytest.raises(ValueError, match="same settings"):
        align_with_keypoints(today, reference, None, frame_keypoints(reference[:180, :320]))


def test_ecc_on_a_smaller_copy_still_recovers_the_homography():
    today, reference, true = _pair((1280, 720), 15, 1.1, (-12, 8))

    alignment = align_pair(today, reference, settings=AlignSettings(ecc_width=320))

    assert alignment.ok and reprojection_error(alignment.homography, true, (1280, 720)) < 1.5


def test_sift_keypoints_recover_it_too():
    today, reference, true = _pair((320, 240), 90, 1.1, (5, 5))

    alignment = align_pair(today, reference, settings=AlignSettings(keypoints="sift", refine=False))

    assert alignment.method == "features"
    assert reprojection_error(alignment.homography, true, (320, 240)) < 1.5


def test_it_accepts_grey_frames():
    today, reference, true = _pair((320, 240), 30, 1.0, (4, 0))

    alignment = align_pair(today[..., 1], reference[..., 1])

    assert alignment.ok and reprojection_error(alignment.homography, true, (320, 240)) < 1.5


@pytest.mark.parametrize("size", [(160, 120), (640, 360)])
def test_open_water_never_gives_a_keypoint_homography(size):
    alignment = align_pair(water(1, size), water(2, size))

    assert alignment.method in ("phase", "failed")
    if alignment.ok:  # a translation at most, never a wild homography
        np.testing.assert_allclose(alignment.homography[:2, :2], np.eye(2))
        np.testing.assert_allclose(alignment.homography[2], [0, 0, 1])
    else:
        assert alignment.homography is None and alignment.inliers == 0 and alignment.overlap == 0.0


def test_a_view_of_another_place_fails_or_overlaps_little():
    size = (320, 240)
    today = render(WORLD, camera((200, 200), 0, 0.6, size), size)
    elsewhere = render(textured_world(seed=5), camera((600, 600), 0, 0.6, size), size)

    alignment = align_pair(today, elsewhere)

    assert alignment.method in ("phase", "failed")


def test_when_keypoints_are_too_few_phase_correlation_and_ecc_find_the_shift():
    size = (320, 240)
    smooth = np.clip(textured_world(seed=3)[..., 0].astype(np.float32) * 0.5 + 60, 0, 255).astype(np.uint8)
    today = render(smooth, camera((450, 450), 0, 1.0, size), size)
    reference = render(smooth, camera((460, 455), 0, 1.0, size), size)

    alignment = align_pair(today, reference, settings=AlignSettings(min_inliers=10**6, min_similarity_inliers=10**6))

    assert alignment.method == "phase"
    np.testing.assert_allclose(alignment.homography[:2, 2], [10, 5], atol=0.5)


def test_frames_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="different sizes"):
        align_pair(np.zeros((120, 160, 3), np.uint8), np.zeros((121, 160, 3), np.uint8))


def test_warping_the_reference_reproduces_today():
    size = (320, 240)
    today, reference, _ = _pair(size, 45, 1.1, (10, -5))
    alignment = align_pair(today, reference)

    warped, valid = warp_reference(reference, alignment, size)

    assert warped.shape == today.shape and warped.dtype == np.uint8
    assert 0.3 < valid.mean() <= 1.0 and abs(valid.mean() - alignment.overlap) < 0.05
    difference = np.abs(warped.astype(int) - today.astype(int))[valid]
    assert np.median(difference) < 6
    assert not warped[~valid].any()


def test_feature_maps_warp_like_the_frame_after_scaling_the_homography():
    size, small = (320, 240), (80, 60)
    today, reference, true = _pair(size, 90, 1.0, (0, 8))
    # a 12-channel float map at a quarter of the frame size: the frame's colours four times over
    features = np.tile(cv2.resize(reference, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255, 4)

    warped, valid = warp_reference(features, Alignment(scale_homography(true, size, small), "features", 100, 1.0),
                                   small)

    assert warped.shape == (60, 80, 12) and warped.dtype == np.float32
    expected = cv2.resize(today, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    assert valid.mean() > 0.5
    assert np.median(np.abs(warped[..., 9:] - expected)[valid]) < 0.05
    assert not warped[~valid].any()


def test_scaling_a_homography_there_and_back_is_the_identity_on_it():
    _, _, true = _pair((320, 240), 30, 1.1, (5, 5))

    there = scale_homography(true, (320, 240), (1280, 960))
    back = scale_homography(there, (1280, 960), (320, 240))

    np.testing.assert_allclose(back, true, atol=1e-9)
    np.testing.assert_allclose(scale_homography(np.eye(3), (320, 240), (64, 48)), np.eye(3), atol=1e-12)


def test_scaling_keeps_pixel_centres_matched():
    # a pure shift of 4 pixels at 320 wide is a shift of 1 pixel at 80 wide
    shift = np.array([[1, 0, 4.0], [0, 1, 0], [0, 0, 1]])

    np.testing.assert_allclose(scale_homography(shift, (320, 240), (80, 60)), [[1, 0, 1], [0, 1, 0], [0, 0, 1]],
                               atol=1e-12)


def test_a_failed_alignment_warps_to_nothing():
    warped, valid = warp_reference(np.ones((60, 80, 3), np.uint8), Alignment(None, "failed", 0, 0.0), (80, 60))

    assert warped.shape == (60, 80, 3) and not warped.any() and not valid.any()


def test_a_few_agreeing_keypoints_give_a_similarity():
    today, reference, true = _pair((320, 240), 60, 1.1, (8, 0))

    alignment = align_pair(today, reference, settings=AlignSettings(min_inliers=10**6, refine=False))

    assert alignment.method == "features" and alignment.inliers >= AlignSettings().min_similarity_inliers
    assert reprojection_error(alignment.homography, true, (320, 240)) < 1.5
