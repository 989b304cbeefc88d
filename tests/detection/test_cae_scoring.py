"""Scoring with a trained CAE: save/load round trip, heatmaps, tiles, windows, events."""

import numpy as np
import pytest
import torch

from detection.cae.anomaly_map import frame_scores, heatmap_shape, quantise, smooth_maps
from detection.cae.config import make_config
from detection.cae.losses import box_blur
from detection.cae.scoring import CAEDetector, finalise_scores
from detection.cae.tiling import cut_tiles, stitch, tile_grid
from detection.cae.train import train_cae
from detection.cae.windows import window_indices
from detection.detector_file import load_detector, save_detector
from detection.device import cpu_threads
from detection.errors import DetectorFileError
from tests.detection.cae_support import scene


@pytest.fixture(scope="module")
def detector():
    config = make_config({"input_size": 32, "epochs": 10, "batch_size": 16, "widths": (8, 16)})
    with cpu_threads(1):
        detector, _ = train_cae(
            [scene(40)], [scene(16, offset=40, box_from=8)], [np.arange(16) >= 8], config=config, seed=0
        )
    return detector


def test_a_saved_detector_loads_alone_and_scores_identically(detector, tmp_path):
    frames, times = scene(12, offset=60, box_from=6), np.arange(12) * 0.5
    before = detector.score_frames(frames, times)
    detector.save(tmp_path / "model.pt")
    loaded = load_detector(tmp_path / "model.pt")
    assert isinstance(loaded, CAEDetector) and loaded.kind == "cae"
    assert loaded.threshold == detector.threshold and loaded.config == detector.config
    after = loaded.score_frames(frames, times)
    np.testing.assert_array_equal(after.frame_scores, before.frame_scores)
    np.testing.assert_array_equal(after.heatmaps, before.heatmaps)
    assert after.events == before.events


def test_a_file_of_another_format_version_is_refused(detector, tmp_path):
    path = tmp_path / "old.pt"
    detector.save(path)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 0
    torch.save(payload, path)
    with pytest.raises(DetectorFileError, match="format version 0"):
        load_detector(path)


def test_a_file_with_wrong_weights_is_refused(tmp_path):
    path = tmp_path / "bad.pt"
    config = make_config({"input_size": 32})
    save_detector(path, kind="cae", state={"nope": torch.zeros(1)}, config=config.to_dict(), threshold=1.0)
    with pytest.raises(DetectorFileError, match="does not rebuild a cae detector"):
        load_detector(path)


def test_scores_heatmaps_and_events_have_the_documented_shapes(detector):
    frames = scene(10, offset=60, box_from=5)
    scores = detector.score_frames(frames, np.arange(10) * 0.5)
    assert scores.frame_scores.shape == (10,) and scores.frame_scores.dtype == np.float32
    assert scores.heatmaps.shape == (10, 32, 32) and scores.heatmaps.dtype == np.uint8
    assert scores.heatmaps.max() == 255 and scores.heatmap_scale > 0
    assert scores.frame_scores[5:].min() > scores.frame_scores[:4].max()  # the box is found
    assert len(scores.events) == 1 and scores.events[0].start == 2.5


def test_scoring_rejects_frames_of_the_wrong_layout(detector):
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) uint8"):
        detector.score_frames(np.zeros((2, 3, 32, 32), np.uint8), np.arange(2.0))
    with pytest.raises(ValueError, match="times"):
        detector.score_frames(scene(2), np.arange(3.0))


def test_the_top_k_score_sees_a_small_hot_spot_that_the_mean_hides():
    maps = torch.zeros(2, 100, 100)
    maps[1, :3, :3] = 1.0  # 9 hot pixels of 10,000
    mean = frame_scores(maps, pooling="mean")
    top = frame_scores(maps, pooling="topk", topk_fraction=0.001)
    assert float(mean[1]) == pytest.approx(0.0009)
    assert float(top[1]) == pytest.approx(0.9)  # 10 highest pixels: nine at 1, one at 0


def test_heatmaps_fit_the_storage_budget():
    # 2 fps for an hour at the default 3844 cells: under 50 MB.
    h, w = heatmap_shape(124, 124, 3844)
    assert (h, w) == (62, 62) and 7200 * h * w < 50e6
    h, w = heatmap_shape(1080, 1920, 3844)
    assert 7200 * h * w < 50e6 and abs(w / h - 1920 / 1080) < 0.1
    values, scale = quantise(np.array([[0.0, 0.5, 2.0]]))
    assert values.tolist() == [[0, 64, 255]] and scale == pytest.approx(2.0 / 255)


def test_tiles_cover_the_frame_and_stitch_back():
    grid = tile_grid(100, 150, 64, 0.25)
    assert grid.ys == (0, 36) and grid.xs == (0, 48, 86)
    frames = torch.rand(2, 1, 100, 150)
    tiles = cut_tiles(frames, grid)
    assert tiles.shape == (12, 1, 64, 64)
    assert torch.equal(tiles[4], frames[0, :, 36:100, 48:112])  # frame 0, tile row 1, column 1
    assert torch.allclose(stitch(tiles[:, 0], grid), frames[:, 0])


def test_sequence_windows_never_reach_into_another_run():
    run_starts = torch.tensor([0, 0, 0, 0, 4, 4, 4])
    windows = window_indices(torch.tensor([0, 3, 5]), run_starts, 3)
    assert windows.tolist() == [[0, 0, 0], [1, 2, 3], [4, 4, 5]]


def test_final_scores_are_z_scores_smoothed_over_time():
    config = make_config({"temporal_window": 3})
    raw = np.array([1.0, 1.0, 9.0, 1.0, 3.0, 3.0])
    scores = finalise_scores(raw, config, {"score_mean": 1.0, "score_std": 2.0})
    assert scores.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]  # a one-frame spike is a median's outlier


def test_the_box_blur_is_a_window_mean_with_replicated_borders():
    x = torch.rand(2, 3, 9, 11)
    expected = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(x, (2, 2, 2, 2), mode="replicate"), 5, 1)
    assert torch.allclose(box_blur(x, 2), expected, atol=1e-5)
    spot = torch.zeros(1, 21, 21)
    spot[0, 10, 10] = 1.0
    smoothed = smooth_maps(spot, 2.0)
    assert float(smoothed.sum()) == pytest.approx(1.0) and int(smoothed.flatten().argmax()) == 10 * 21 + 10


def test_video_relative_scores_shift_a_whole_video_to_its_median():
    config = make_config({"temporal_window": 1, "video_relative": True})
    raw = np.array([5.0, 5.0, 5.0, 9.0])  # a brighter day: every frame's error is higher
    scores = finalise_scores(raw, config, {"score_mean": 1.0, "score_std": 2.0})
    assert scores.tolist() == [0.0, 0.0, 0.0, 2.0]


def test_reconstructions_are_images_at_the_model_size_close_to_their_input(detector):
    frames = scene(6)
    images = detector.reconstruct(frames)
    size = detector.config.input_size
    assert images.shape == (6, size, size, 3) and images.dtype == np.uint8
    inputs = torch.nn.functional.interpolate(torch.from_numpy(frames).permute(0, 3, 1, 2).float(), size=(size, size),
                                             mode="bilinear", antialias=True).permute(0, 2, 3, 1).numpy()
    own = np.abs(images.astype(float) - inputs).mean()
    other = np.abs(images.astype(float) - inputs[::-1]).mean()
    assert own < 60 and own <= other + 1e-6


def test_events_re_derived_from_the_score_file_are_the_scored_ones(detector, tmp_path):
    """`events_at` on the stored scores gives `score_frames`' events; a new threshold changes them without
    scoring again (workers/rethreshold.py)."""
    from detection.events import merge_events
    from detection.score_store import load_video_scores, save_video_scores

    frames, times = scene(12, offset=60, box_from=6), np.arange(12) * 0.5
    scores = detector.score_frames(frames, times)
    save_video_scores(tmp_path / "run", scores)
    stored = load_video_scores(tmp_path / "run")
    assert detector.events_at(stored, detector.threshold) == scores.events
    lower = float(np.median(stored.frame_scores))
    assert detector.events_at(stored, lower) == merge_events(times, stored.frame_scores, lower, heatmaps=stored.heatmaps)
