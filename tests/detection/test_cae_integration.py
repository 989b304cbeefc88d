"""End to end through the CLI: real H.264 files, a manifest, training, scoring, stored scores.

A camera pans over the same scene in every video; from `box_from` seconds on, a white 12x12 box stands
at (10, 10) in a 64x48 frame. The detector trains on the box-free video, picks its threshold on a
labelled validation video, and must flag the test video's box with the heatmap peak inside the box.
"""

import numpy as np
import pytest

from detection.cli import main
from detection.device import cpu_threads
from detection.score_store import load_video_scores
from tests.support.videos import make_video

BOX_X, BOX_Y, BOX_SIDE = 10, 10, 12
WIDTH, HEIGHT = 64, 48


@pytest.mark.slow
def test_it_learns_an_area_and_finds_an_inserted_object_where_it_is(tmp_path, capsys):
    make_video(tmp_path / "normal.mp4", seconds=6, width=WIDTH, height=HEIGHT)
    make_video(tmp_path / "val.mp4", seconds=4, width=WIDTH, height=HEIGHT, box_from=2.0)
    make_video(tmp_path / "test.mp4", seconds=4, width=WIDTH, height=HEIGHT, box_from=1.5)
    (tmp_path / "manifest.csv").write_text(
        "video,label,split,intervals,classes\nnormal.mp4,normal,train,,\nval.mp4,anomalous,val,2.0-3.9,box\n"
    )
    model = tmp_path / "model.pt"
    sampling = ["--fps", "10", "--size", "32x32"]
    settings = ["--set", "input_size=32", "--set", "batch_size=16"]
    with cpu_threads(1):
        assert main(["train", "cae", str(tmp_path / "manifest.csv"), "--out", str(model), "--epochs", "12",
                     *settings, *sampling]) == 0
        assert main(["score", str(model), str(tmp_path / "test.mp4"), "--out", str(tmp_path / "scores"),
                     *sampling]) == 0
    printed = capsys.readouterr().out
    assert "threshold_method: best_f1" in printed and "event" in printed

    scores = load_video_scores(tmp_path / "scores")
    flagged = scores.frame_scores >= scores.threshold
    with_box = scores.times >= 1.5
    assert flagged[with_box].mean() >= 0.9  # the object is found in (nearly) every frame that shows it
    assert flagged[scores.times < 1.2].mean() <= 0.1  # and hardly anything before it appears

    (event,) = [e for e in scores.events if e.end >= 2.0]
    assert 1.3 <= event.start <= 1.8
    assert BOX_X / WIDTH <= event.peak_x <= (BOX_X + BOX_SIDE) / WIDTH
    assert BOX_Y / HEIGHT <= event.peak_y <= (BOX_Y + BOX_SIDE) / HEIGHT
    # Every frame showing the box has its hottest heatmap cell inside the box.
    rows, cols = scores.heatmaps.shape[1:]
    peaks = scores.heatmaps[with_box].reshape(int(with_box.sum()), -1).argmax(axis=1)
    peak_x, peak_y = (peaks % cols + 0.5) / cols, (peaks // cols + 0.5) / rows
    assert np.all((peak_x >= BOX_X / WIDTH) & (peak_x <= (BOX_X + BOX_SIDE) / WIDTH))
    assert np.all((peak_y >= BOX_Y / HEIGHT) & (peak_y <= (BOX_Y + BOX_SIDE) / HEIGHT))
