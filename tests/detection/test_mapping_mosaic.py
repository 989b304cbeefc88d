"""The area mosaic: placement of frames by registrations and telemetry, and a generated patrol flight's mosaic
against the truth the generator knows (fixture positions, the world texture)."""

import json

import cv2
import numpy as np
import pytest

from detection.mapping.accuracy import landmark_errors
from detection.mapping.mosaic import build_mosaic
from detection.mapping.placement import apply_similarity, grid_points, place_frames
from detection.mapping.pyramid import TILE_SIZE, MosaicInfo, load_info, save_pyramid
from detection.telemetry import read_telemetry
from detection.video.sampling import sample_frames

LANDMARK_MAX_M = 1.0  # stated: every fixture sighting within 1 m (median well under half a metre)
IMAGE_SHIFT_MAX_M = 1.0  # the mosaic image against the world it was rendered from


def similarity(scale, angle, tx, ty):
    return np.array([scale * np.cos(angle), scale * np.sin(angle), tx, ty])


def homography_between(later, earlier):
    """The 3x3 map from frame `later`'s pixels to frame `earlier`'s, given both true placements."""
    def matrix(s):
        a, b, tx, ty = s
        return np.array([[a, -b, tx], [b, a, ty], [0, 0, 1.0]])
    return np.linalg.inv(matrix(earlier)) @ matrix(later)


TRUE = [similarity(0.2, 0.1 * i, 10.0 * i, -3.0 * i) for i in range(6)]
SIZE = (320, 180)


def test_exact_registrations_and_telemetry_give_the_true_placements():
    pairs = [None] + [homography_between(TRUE[i], TRUE[i - 1]) for i in range(1, 6)]
    told = [apply_similarity(s, grid_points(*SIZE, 3)) for s in TRUE]
    placements, placed = place_frames(SIZE, pairs, told)
    assert placed.all()
    assert np.allclose(placements, np.array(TRUE), atol=1e-6)


def test_registrations_pull_noisy_telemetry_together():
    """Telemetry 2 m off at random per frame, registrations exact: the fused frames lie much closer to the
    truth than telemetry alone (the chain of registrations averages the noise out)."""
    rng = np.random.default_rng(1)
    truth = [similarity(0.2, 0.05 * i, 8.0 * i, 1.0 * i) for i in range(40)]
    pairs = [None] + [homography_between(truth[i], truth[i - 1]) for i in range(1, 40)]
    grid = grid_points(*SIZE, 3)
    told = [apply_similarity(s, grid) + rng.normal(0, 2.0, 2) for s in truth]
    placements, _ = place_frames(SIZE, pairs, told)
    centre = np.array([[SIZE[0] / 2, SIZE[1] / 2]])
    fused = np.array([np.hypot(*(apply_similarity(p, centre) - apply_similarity(t, centre))[0])
                      for p, t in zip(placements, truth)])
    noisy = np.array([np.hypot(*(np.mean(t, axis=0) - apply_similarity(s, centre)[0]))
                      for t, s in zip(told, truth)])
    assert np.median(fused) < 0.5 * np.median(noisy)


def test_without_telemetry_the_first_frame_sets_the_units_and_a_break_ends_the_chain():
    pairs = [None] + [homography_between(TRUE[i], TRUE[i - 1]) for i in range(1, 6)]
    pairs[4] = None
    placements, placed = place_frames(SIZE, pairs, None)
    assert placed.tolist() == [True, True, True, True, False, False]
    assert np.allclose(placements[0], [1, 0, 0, 0], atol=1e-6)  # frame 0's pixels are the map's
    relative = homography_between(TRUE[2], TRUE[0])
    point = np.array([[100.0, 50.0]])
    mapped = relative @ np.array([100.0, 50.0, 1.0])
    assert np.allclose(apply_similarity(placements[2], point), mapped[:2], atol=1e-6)
    assert np.isnan(placements[4:]).all()


@pytest.fixture(scope="module")
def flight(patrol_tiny_set):
    """The normal flight of the generated set: its frames (all 16, 4 fps), telemetry and mosaic."""
    sampled = sample_frames(patrol_tiny_set / "day01" / "patrol.mp4", fps=4, size=None)
    poses = read_telemetry(patrol_tiny_set / "day01" / "patrol.SRT")
    frames = np.asarray(sampled.frames)
    return frames, sampled.times, poses, build_mosaic(frames, sampled.times, poses)


def test_the_mosaic_places_the_areas_fixtures_within_a_metre(flight, patrol_tiny_set):
    frames, times, poses, mosaic = flight
    errors = landmark_errors(mosaic, patrol_tiny_set / "area.json", poses, times, (frames.shape[2], frames.shape[1]))
    assert len(errors) >= 10  # the boats, cars and buoy, each in several frames
    assert np.median(errors) < 0.5 and errors.max() < LANDMARK_MAX_M
    stats = mosaic.stats
    assert stats["georeferenced"] and stats["placed"] == len(frames) == 16
    assert 0.1 < mosaic.resolution < 0.3  # about the frames' own ground resolution (65 m over 320 px)
    assert stats["drift_m"] is not None and stats["residual_median_m"] < 0.5


def _world_in_mosaic_grid(mosaic, patrol_tiny_set, offset_m=(0.0, 0.0)):
    """The generator's world texture resampled onto the mosaic's pixels (through their latitudes), moved by
    `offset_m` (east, north)."""
    from detection.synth.generate import _AREA, prepare_area
    from detection.synth.presets import AreaSettings, get_preset
    from detection.synth.sidecar import AreaMap

    prepare_area(get_preset("patrol_tiny"), 0)
    area = json.loads((patrol_tiny_set / "area.json").read_text())
    area_map = AreaMap(AreaSettings(), int(area["world_size"]))
    height, width = mosaic.image.shape[:2]
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    east = mosaic.top_left[0] + cols * mosaic.resolution + offset_m[0]
    south = mosaic.top_left[1] + rows * mosaic.resolution - offset_m[1]
    latitude, longitude = mosaic.origin.to_latlon(east, -south)
    world_x, world_y = area_map.world(latitude, longitude)
    return cv2.remap(_AREA["world"].texture[..., :3], world_x.astype(np.float32), world_y.astype(np.float32),
                     cv2.INTER_LINEAR)


def _image_shift_m(mosaic, reference):
    grey = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) for image in (mosaic.image, reference)]
    grey = [(g - g[mosaic.coverage].mean()) * mosaic.coverage for g in grey]
    window = cv2.createHanningWindow(grey[0].shape[::-1], cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(grey[0] * window, grey[1] * window)
    return float(np.hypot(dx, dy) * mosaic.resolution), response


def test_the_mosaic_image_lies_where_the_world_it_shows_is(flight, patrol_tiny_set):
    mosaic = flight[3]
    shift, response = _image_shift_m(mosaic, _world_in_mosaic_grid(mosaic, patrol_tiny_set))
    assert response > 0.3 and shift < IMAGE_SHIFT_MAX_M
    # The check sees a misplacement: the world moved 6 m east is found 6 m off.
    moved, _ = _image_shift_m(mosaic, _world_in_mosaic_grid(mosaic, patrol_tiny_set, offset_m=(6.0, 0.0)))
    assert moved == pytest.approx(6.0, abs=IMAGE_SHIFT_MAX_M)


def test_without_telemetry_the_mosaic_is_in_route_coordinates(flight):
    frames, times, _, _ = flight
    mosaic = build_mosaic(frames[:6], times[:6], None)
    assert mosaic.origin is None and not mosaic.stats["georeferenced"] and mosaic.stats["drift_m"] is None
    assert mosaic.resolution == pytest.approx(1.0, rel=0.2)  # frame-0 pixels
    with pytest.raises(ValueError, match="route coordinates"):
        mosaic.map_latlon(np.zeros((1, 2)))


def _assemble(folder, info, level: int) -> np.ndarray:
    """A level's image put together from its tiles, as a page lays them side by side."""
    columns, rows = info.tile_grid(level)
    return np.concatenate([np.concatenate([cv2.imread(str(folder / info.tile_file(level, x, y)))
                                           for x in range(columns)], axis=1) for y in range(rows)], axis=0)


def test_the_pyramid_round_trips_and_halves_each_level(flight, tmp_path):
    mosaic = flight[3]
    info = save_pyramid(mosaic, tmp_path / "m")
    again = load_info(tmp_path / "m")
    assert again == info and again.georeferenced and again.tiled and again.tile_size == TILE_SIZE
    width, height = mosaic.image.shape[1], mosaic.image.shape[0]
    assert [(lvl.width, lvl.height) for lvl in again.levels] == [(width >> k, height >> k) for k in range(3)]
    assert max(again.levels[-1].width, again.levels[-1].height) <= TILE_SIZE < max(again.levels[-2].width,
                                                                                  again.levels[-2].height)
    assert again.levels[1].resolution == pytest.approx(2 * again.levels[0].resolution, rel=0.01)
    assert again.level_for(600) == again.levels[1]
    east, north = again.to_map(*mosaic.origin.to_latlon(0.0, 0.0))
    assert (east, north) == pytest.approx((0.0, 0.0), abs=1e-6)


def test_a_levels_tiles_put_side_by_side_are_the_level_image(flight, tmp_path):
    mosaic = flight[3]
    info = save_pyramid(mosaic, tmp_path / "m")
    assert info.tile_grid(0) == (4, 2)  # 922x396 px in 256 px tiles, the last column and row cut short
    assert info.tile_file(0, 3, 1) == "tiles/0/3/1.jpg" and info.tile_file(0, 4, 0) is None
    assert info.tile_file(0, 0, 2) is None and info.tile_file(len(info.levels), 0, 0) is None
    expected = mosaic.image[..., ::-1]  # BGR, as OpenCV reads the tiles
    for level in range(len(info.levels)):
        assembled = _assemble(tmp_path / "m", info, level)
        assert assembled.shape == (info.levels[level].height, info.levels[level].width, 3)
        difference = np.abs(assembled.astype(np.int16) - expected.astype(np.int16))
        assert difference.mean() < 3.0 and np.percentile(difference, 99) < 20, level  # JPEG at quality 85
        expected = cv2.resize(expected, (expected.shape[1] // 2, expected.shape[0] // 2), interpolation=cv2.INTER_AREA)
    untiled = MosaicInfo(None, (0.0, 0.0), info.levels, {})  # as a mosaic stored before tiles is read
    assert untiled.tile_file(0, 0, 0) is None
    with pytest.raises(ValueError, match="before tiles"):
        untiled.tile_grid(0)


def test_a_damaged_description_is_a_clear_error(tmp_path):
    (tmp_path / "mosaic.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a readable mosaic description"):
        load_info(tmp_path)


def test_it_rejects_frames_it_cannot_stitch():
    with pytest.raises(ValueError, match="at least 2 frames"):
        build_mosaic(np.zeros((1, 8, 8, 3), np.uint8), np.zeros(1), None)
    with pytest.raises(ValueError, match="uint8"):
        build_mosaic(np.zeros((3, 8, 8), np.float32), np.zeros(3), None)
