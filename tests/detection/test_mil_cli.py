"""`python -m detection train mil MANIFEST --features ... --out mil.pt` and `score mil.pt VIDEO`, on real files."""

from pathlib import Path

import pytest

from detection.cli import main
from detection.detector_file import load_detector
from detection.score_store import load_video_scores
from tests.support.videos import make_video


def write_manifest(folder: Path) -> Path:
    rows = ["video,label,split,intervals,classes"]
    for index, split in enumerate(["train", "train", "val"]):
        box = (4 + 9 * index, 8, 12)
        make_video(folder / f"a{index}.mp4", seconds=6, fps=4, box_from=2.0 + index, box=box)
        make_video(folder / f"n{index}.mp4", seconds=6, fps=4)
        rows += [f"a{index}.mp4,anomalous,{split},{2.0 + index}-6,box", f"n{index}.mp4,normal,{split},,"]
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


@pytest.mark.slow
def test_train_and_score_a_mil_detector_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SKERRY_FEATURE_CACHE", str(tmp_path / "features"))
    manifest = write_manifest(tmp_path / "data")
    settings = ["--set", "iterations=20", "--set", "input_size=32", "--set", "clip_len=2", "--size", "48x48"]
    code = main(
        [
            "train",
            "mil",
            str(manifest),
            "--features",
            "mobilenet_v2",
            "--out",
            str(tmp_path / "mil.pt"),
            *settings,
        ]
    )
    assert code == 0
    detector = load_detector(tmp_path / "mil.pt")
    assert detector.kind == "mil" and detector.extractor.name == "mobilenet_v2"
    assert (
        main(["score", str(tmp_path / "mil.pt"), str(tmp_path / "data" / "a2.mp4"), "--size", "48x48"]) == 0
    )
    scores = load_video_scores(tmp_path / "data" / "a2.scores")
    assert scores.segment_scores is not None and len(scores.frame_scores) == len(scores.times) == 12
    assert (tmp_path / "features" / "mobilenet_v2").is_dir()  # features went through the cache


def test_an_unknown_extractor_is_a_clear_error(tmp_path, capsys):
    manifest = tmp_path / "manifest.csv"
    make_video(tmp_path / "a.mp4", seconds=1, box_from=0.5)
    make_video(tmp_path / "n.mp4", seconds=1)
    manifest.write_text(
        "video,label,split,intervals,classes\na.mp4,anomalous,train,,\nn.mp4,normal,train,,\n"
    )
    with pytest.raises(ValueError, match="unknown feature extractor 'vgg'"):
        main(["train", "mil", str(manifest), "--features", "vgg", "--out", str(tmp_path / "mil.pt")])
