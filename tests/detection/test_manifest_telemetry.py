"""The manifest's optional telemetry column: written only when a video has a sidecar, read back to the same
paths, checked like the video path, and absent from old manifests, which read as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection.datasets.manifest import read_manifest, write_manifest
from detection.errors import ManifestError
from detection.types import Interval, VideoRecord


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("day01/patrol.mp4", "day02/patrol.mp4", "day01/patrol.SRT"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_sidecars_round_trip_relative_to_the_manifest(folder):
    records = [
        VideoRecord(folder / "day01/patrol.mp4", "normal", "train", video_id="day01/patrol.mp4",
                    telemetry=folder / "day01/patrol.SRT"),
        VideoRecord(folder / "day02/patrol.mp4", "anomalous", "test", (Interval(0.5, 1.0, "boat"),),
                    video_id="day02/patrol.mp4"),
    ]
    path = write_manifest(folder / "manifest.csv", records)
    assert path.read_text().splitlines() == [
        "video,label,split,intervals,classes,telemetry",
        "day01/patrol.mp4,normal,train,,,day01/patrol.SRT",
        "day02/patrol.mp4,anomalous,test,0.5-1,boat,",
    ]
    first, second = read_manifest(path, probe_durations=False)
    assert first.telemetry == folder / "day01" / "patrol.SRT" and second.telemetry is None


def test_manifests_without_sidecars_keep_the_old_header_and_old_manifests_still_read(folder):
    record = VideoRecord(folder / "day01/patrol.mp4", "normal", "train", video_id="day01/patrol.mp4")
    path = write_manifest(folder / "manifest.csv", [record])
    assert path.read_text() == "video,label,split,intervals,classes\nday01/patrol.mp4,normal,train,,\n"
    (back,) = read_manifest(path)
    assert back == record and back.telemetry is None


def test_a_missing_or_escaping_sidecar_is_a_line_numbered_problem(folder):
    path = folder / "manifest.csv"
    path.write_text("video,label,split,intervals,classes,telemetry\n"
                    "day01/patrol.mp4,normal,train,,,day01/gone.SRT\n"
                    "day02/patrol.mp4,normal,train,,,../elsewhere.SRT\n")
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert caught.value.problems == [
        "manifest.csv line 2: telemetry file not found: day01/gone.SRT",
        "manifest.csv line 3: ../elsewhere.SRT escapes the manifest's folder (use a path relative to it, without ..)",
    ]
    path.write_text("video,label,split,intervals,classes,telemetry\ngone/patrol.mp4,,,,,gone/patrol.SRT\n")
    assert read_manifest(path, check_files=False)[0].telemetry == folder / "gone" / "patrol.SRT"
