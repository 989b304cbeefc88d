"""The manifest: round trip, every validation error with its line number, and the deterministic split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from detection.datasets.manifest import read_manifest, write_manifest
from detection.datasets.splits import assign_splits
from detection.errors import ManifestError
from detection.types import Interval, VideoRecord
from tests.support.videos import make_video

HEADER = "video,label,split,intervals,classes"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_video(tmp_path / "day01" / "a.mp4", seconds=2, fps=5, width=32, height=32)
    make_video(tmp_path / "day02" / "b.mp4", seconds=2, fps=5, width=32, height=32)
    return tmp_path


def write(folder: Path, *rows: str) -> Path:
    path = folder / "manifest.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def problems_of(path: Path, **kwargs) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        read_manifest(path, **kwargs)
    return caught.value.problems


def test_it_reads_rows_resolving_paths_against_the_manifest_folder(folder):
    path = write(folder, "day01/a.mp4,normal,train,,", "day02/b.mp4,anomalous,test,0.5-1.2;1.5-1.9,boat;person")
    normal, anomalous = read_manifest(path)
    assert normal == VideoRecord(folder.resolve() / "day01" / "a.mp4", "normal", "train", (), "day01/a.mp4")
    assert anomalous.video_id == "day02/b.mp4" and anomalous.split == "test"
    assert anomalous.intervals == (Interval(0.5, 1.2, "boat"), Interval(1.5, 1.9, "person"))


def test_a_written_manifest_reads_back_the_same(folder):
    records = [
        VideoRecord(folder / "day01" / "a.mp4", "normal", "train", (), "day01/a.mp4"),
        VideoRecord(folder / "day02" / "b.mp4", "anomalous", "", (Interval(0.25, 1.0, "boat"),), "day02/b.mp4"),
    ]
    path = write_manifest(folder / "manifest.csv", records)
    assert path.read_text().splitlines()[2] == "day02/b.mp4,anomalous,,0.25-1,boat"
    again = read_manifest(path)
    assert [(r.video_id, r.label, r.split, r.intervals) for r in again] == [
        (r.video_id, r.label, r.split, r.intervals) for r in records
    ]
    assert again[1].path == (folder / "day02" / "b.mp4").resolve()


def test_weak_labels_unlabelled_rows_and_classless_intervals_are_accepted(folder):
    path = write(folder, "day01/a.mp4,anomalous,,,", "day02/b.mp4,,,,", )
    weak, unlabelled = read_manifest(path)
    assert weak.is_anomalous and weak.intervals == ()
    assert unlabelled.label == "" and unlabelled.split == ""
    path = write(folder, "day01/a.mp4,anomalous,val,0-1,")
    assert read_manifest(path)[0].intervals == (Interval(0.0, 1.0, ""),)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("day09/missing.mp4,normal,train,,", "file not found: day09/missing.mp4"),
        ("day01/a.mp4,strange,train,,", "unknown label 'strange'"),
        ("day01/a.mp4,normal,holdout,,", "unknown split 'holdout'"),
        ("day01/a.mp4,anomalous,test,abc,boat", "bad interval 'abc'"),
        ("day01/a.mp4,anomalous,test,1.5-0.5,boat", "interval 1.5-0.5 is reversed"),
        ("day01/a.mp4,anomalous,test,0.5-9,boat", "interval 0.5-9 lies outside the video (2.00 s long)"),
        ("day01/a.mp4,normal,test,0.5-1,", "intervals on a normal video"),
        ("day01/a.mp4,,,0.5-1,", "intervals on an unlabelled video"),
        ("day01/a.mp4,anomalous,test,0.1-0.5;0.6-0.9,boat", "1 class(es) for 2 interval(s)"),
        ("../a.mp4,normal,train,,", "../a.mp4 escapes the manifest's folder"),
        ("/etc/a.mp4,normal,train,,", "/etc/a.mp4 escapes the manifest's folder"),
    ],
)
def test_each_problem_is_named_with_its_line_number(folder, row, expected):
    path = write(folder, "day02/b.mp4,normal,train,,", row)
    problems = problems_of(path)
    assert problems == [f"manifest.csv line 3: {expected}"] or (
        len(problems) == 1 and problems[0].startswith(f"manifest.csv line 3: {expected}")
    ), problems


def test_a_duplicate_row_names_the_first_line(folder):
    path = write(folder, "day01/a.mp4,normal,train,,", "day02/b.mp4,normal,train,,", "day01/a.mp4,normal,val,,")
    assert problems_of(path) == ["manifest.csv line 4: duplicate of line 2 (day01/a.mp4)"]


def test_every_bad_row_is_reported_not_just_the_first(folder):
    path = write(folder, "day01/a.mp4,bad,train,,", "day02/b.mp4,normal,bad,,", "nope.mp4,normal,train,,")
    assert [p.split(":")[0] for p in problems_of(path)] == [f"manifest.csv line {n}" for n in (2, 3, 4)]


def test_a_wrong_header_is_reported_on_line_one(folder):
    path = folder / "manifest.csv"
    path.write_text("path,label\nday01/a.mp4,normal\n")
    assert problems_of(path)[0].startswith("manifest.csv line 1: missing column(s) video, split, intervals, classes")


def test_checks_can_skip_files_and_durations(folder):
    path = write(folder, "gone.mp4,normal,train,,", "day01/a.mp4,anomalous,test,0.5-9,boat")
    records = read_manifest(path, check_files=False, probe_durations=False)
    assert [r.video_id for r in records] == ["gone.mp4", "day01/a.mp4"]


def test_an_unreadable_video_with_intervals_is_reported(folder):
    (folder / "junk.mp4").write_bytes(b"not a video at all")
    path = write(folder, "junk.mp4,anomalous,test,0-1,boat")
    assert problems_of(path)[0].startswith("manifest.csv line 2: junk.mp4 cannot be read as a video")


def _records(labels: dict[str, int], split: str = "") -> list[VideoRecord]:
    return [
        VideoRecord(Path(f"{label}{i}.mp4"), label, split, (), f"{label}/{i:03d}.mp4")
        for label, count in labels.items()
        for i in range(count)
    ]


def test_the_split_is_80_10_10_within_each_label():
    records = assign_splits(_records({"normal": 20, "anomalous": 10}))
    counts = Counter((r.label, r.split) for r in records)
    assert counts == {("normal", "train"): 16, ("normal", "val"): 2, ("normal", "test"): 2,
                      ("anomalous", "train"): 8, ("anomalous", "val"): 1, ("anomalous", "test"): 1}


def test_the_split_is_deterministic_by_seed_and_ignores_row_order():
    records = _records({"normal": 30, "anomalous": 12, "": 5})
    first = {r.video_id: r.split for r in assign_splits(records, seed=7)}
    shuffled = {r.video_id: r.split for r in assign_splits(records[::-1], seed=7)}
    other_seed = {r.video_id: r.split for r in assign_splits(records, seed=8)}
    assert first == shuffled
    assert first != other_seed


def test_the_split_only_fills_empty_splits_and_keeps_order():
    given = _records({"normal": 3}, split="test") + _records({"anomalous": 4})
    result = assign_splits(given)
    assert [r.video_id for r in result] == [r.video_id for r in given]
    assert [r.split for r in result[:3]] == ["test"] * 3
    assert Counter(r.split for r in result[3:]) == {"train": 2, "val": 1, "test": 1}


def test_small_groups_still_get_a_validation_and_a_test_video():
    assert Counter(r.split for r in assign_splits(_records({"normal": 3}))) == {"train": 1, "val": 1, "test": 1}
    assert [r.split for r in assign_splits(_records({"normal": 1}))] == ["train"]


def run_cli(argv: list[str]) -> int:
    """The manifest subcommands as `python -m detection` runs them, without importing the torch commands."""
    import argparse

    from detection.datasets import cli

    parser = argparse.ArgumentParser(prog="python -m detection")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_cli_checks_and_splits_a_manifest(folder, capsys):
    path = write(folder, "day01/a.mp4,normal,,,", "day02/b.mp4,anomalous,test,0.5-1,boat")
    assert run_cli(["check-manifest", str(path)]) == 0
    assert "ok, 2 videos: 1 anomalous/test, 1 normal/unsplit" in capsys.readouterr().out
    assert run_cli(["split-manifest", str(path)]) == 0
    assert [r.split for r in read_manifest(path)] == ["train", "test"]
    path.write_text(path.read_text() + "day01/a.mp4,normal,val,,\n")
    with pytest.raises(ManifestError, match="line 4: duplicate of line 2"):
        run_cli(["check-manifest", str(path)])
