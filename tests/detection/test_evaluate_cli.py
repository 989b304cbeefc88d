"""`python -m detection evaluate` end to end on tiny real videos and a real manifest."""

import json
from pathlib import Path

import pytest
import torch

from detection.cli import main
from tests.support.videos import make_video

ROWS = [
    # name, split, box_from (None: normal)
    ("train_a", "train", None),
    ("train_b", "train", None),
    ("val_n", "val", None),
    ("val_x", "val", 1.0),
    ("test_n", "test", None),
    ("test_x", "test", 1.0),
]


def _manifest(folder: Path, rows=ROWS, extra: str = "") -> Path:
    lines = ["video,label,split,intervals,classes"]
    for name, split, box_from in rows:
        make_video(
            folder / f"{name}.mp4",
            seconds=3.0,
            fps=10,
            width=64,
            height=48,
            box=(20, 14, 16),
            box_from=box_from,
        )
        if box_from is None:
            lines.append(f"{name}.mp4,normal,{split},,")
        else:
            lines.append(f"{name}.mp4,anomalous,{split},{box_from}-2.9,box")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n" + extra)
    return manifest


def test_evaluate_writes_metrics_and_reports_for_each_detector(tmp_path, capsys):
    manifest = _manifest(tmp_path / "data")
    out = tmp_path / "out"
    args = ["evaluate", str(manifest), "--detectors", "iforest,nearest", "--out", str(out)]
    threads = torch.get_num_threads()
    try:
        assert main([*args, "--size", "32", "32", "--fps", "4", "--no-progress", "--threads", "1"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["splits"]["test"]["videos"] == 2 and metrics["splits"]["train"]["normal"] == 2
    assert metrics["splits"]["test"]["frames"] == 24  # 3 s at 4 fps, two videos
    nearest = metrics["detectors"]["nearest"]
    assert nearest["status"] == "ok" and nearest["frame_auc"] > 0.9
    assert nearest["per_class"]["box"]["intervals"] == 1
    assert metrics["detectors"]["iforest"]["status"] == "ok"
    assert (out / "report.md").is_file() and (out / "report.html").stat().st_size > 1_000_000
    assert "| nearest |" in capsys.readouterr().out
    assert (manifest.parent / ".frame-cache").is_dir()  # decoded once, reused by the next run


def test_a_manifest_row_naming_a_missing_file_is_a_clear_error(tmp_path, capsys):
    manifest = _manifest(tmp_path / "data", extra="gone.mp4,normal,test,,\n")
    assert main(["evaluate", str(manifest), "--detectors", "iforest", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "gone.mp4" in error and "8" in error  # the row and its line
    assert not (tmp_path / "out" / "metrics.json").exists()


@pytest.mark.parametrize(
    "rows, reason",
    [
        (
            [r for r in ROWS if r[0] not in ("train_a", "train_b")] + [("train_c", "train", 1.0)],
            "train split has no normal",
        ),
        ([r for r in ROWS if r[0] != "test_n"], "test split has no normal"),
    ],
)
def test_a_split_without_normal_videos_is_named(tmp_path, capsys, rows, reason):
    manifest = _manifest(tmp_path / "data", rows=rows)
    assert main(["evaluate", str(manifest), "--detectors", "iforest", "--out", str(tmp_path / "out")]) == 2
    assert reason in capsys.readouterr().err
