"""Importers: a normal/anomalous folder and the UCF-Crime layout become valid manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection.datasets.importers import import_folder, import_ucf_crime
from detection.datasets.manifest import read_manifest
from detection.errors import ManifestError
from detection.types import Interval
from tests.support.videos import make_video


def tiny(path: Path, **kwargs) -> Path:
    return make_video(path, width=32, height=32, **{"seconds": 1, "fps": 5, **kwargs})


def test_a_folder_of_normal_and_anomalous_videos_becomes_a_manifest(tmp_path):
    tiny(tmp_path / "normal" / "monday.mp4")
    tiny(tmp_path / "normal" / "week2" / "tuesday.mp4")
    tiny(tmp_path / "anomalous" / "boat.mp4")
    (tmp_path / "normal" / "notes.txt").write_text("not a video")
    manifest = import_folder(tmp_path)
    assert manifest == tmp_path / "manifest.csv"
    rows = [(r.video_id, r.label, r.split, r.intervals) for r in read_manifest(manifest)]
    assert rows == [
        ("normal/monday.mp4", "normal", "", ()),
        ("normal/week2/tuesday.mp4", "normal", "", ()),
        ("anomalous/boat.mp4", "anomalous", "", ()),
    ]


def test_a_folder_without_the_label_subfolders_is_refused(tmp_path):
    tiny(tmp_path / "videos" / "a.mp4")
    with pytest.raises(ManifestError, match="expected a normal/ and an anomalous/ subfolder"):
        import_folder(tmp_path)
    (tmp_path / "normal").mkdir()
    with pytest.raises(ManifestError, match="no video files"):
        import_folder(tmp_path)


@pytest.fixture
def ucf(tmp_path: Path) -> Path:
    root = tmp_path / "UCF_Crimes"
    tiny(root / "Anomaly-Videos" / "Arson" / "Arson011_x264.mp4", seconds=3, fps=8)
    tiny(root / "Anomaly-Videos" / "Abuse" / "Abuse001_x264.mp4")
    tiny(root / "Anomaly-Videos" / "Abuse" / "Abuse002_x264.mp4")
    for n in (1, 2, 4):
        tiny(root / "Training_Normal_Videos_Anomaly" / f"Normal_Videos{n:03d}_x264.mp4")
    tiny(root / "Testing_Normal_Videos_Anomaly" / "Normal_Videos_003_x264.mp4")
    tiny(root / "Anomaly-Videos" / "Burglary" / "Burglary005_x264.mp4", seconds=2, fps=10)
    (root / "Temporal_Anomaly_Annotation.txt").write_text(
        "Arson011_x264.mp4  Arson  4  12  16  100\n"  # second span runs past the end: clipped
        "Burglary005_x264.mp4  Burglary  5  15  -1  -1\n"
        "Normal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1\n"
        "Stealing019_x264.mp4  Stealing  100  200  -1  -1\n"  # not downloaded: skipped
    )
    return root


def test_ucf_crime_annotations_become_test_intervals_in_seconds(ucf):
    records = {r.video_id: r for r in read_manifest(import_ucf_crime(ucf))}
    arson = records["Anomaly-Videos/Arson/Arson011_x264.mp4"]
    assert (arson.label, arson.split) == ("anomalous", "test")
    assert arson.intervals == (Interval(0.5, 1.5, "Arson"), Interval(2.0, 3.0, "Arson"))  # frames / 8 fps
    burglary = records["Anomaly-Videos/Burglary/Burglary005_x264.mp4"]
    assert burglary.intervals == (Interval(0.5, 1.5, "Burglary"),)  # frames / 10 fps
    normal_test = records["Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4"]
    assert (normal_test.label, normal_test.split, normal_test.intervals) == ("normal", "test", ())


def test_ucf_crime_training_videos_are_weak_labels_split_into_train_and_val(ucf):
    records = [r for r in read_manifest(import_ucf_crime(ucf)) if r.split != "test"]
    assert {r.video_id: r.label for r in records} == {
        "Anomaly-Videos/Abuse/Abuse001_x264.mp4": "anomalous",
        "Anomaly-Videos/Abuse/Abuse002_x264.mp4": "anomalous",
        "Training_Normal_Videos_Anomaly/Normal_Videos001_x264.mp4": "normal",
        "Training_Normal_Videos_Anomaly/Normal_Videos002_x264.mp4": "normal",
        "Training_Normal_Videos_Anomaly/Normal_Videos004_x264.mp4": "normal",
    }
    assert all(r.intervals == () for r in records)
    assert sorted(r.split for r in records if r.label == "normal") == ["train", "train", "val"]


def test_a_malformed_annotation_line_is_named(ucf):
    with (ucf / "Temporal_Anomaly_Annotation.txt").open("a") as handle:
        handle.write("Arson012_x264.mp4 Arson 10 twenty -1 -1\n")
    with pytest.raises(ManifestError, match="Temporal_Anomaly_Annotation.txt line 5: expected 'name class"):
        import_ucf_crime(ucf)


def test_ucf_crime_without_the_annotation_file_is_refused(ucf):
    (ucf / "Temporal_Anomaly_Annotation.txt").unlink()
    with pytest.raises(ManifestError, match="no Temporal_Anomaly_Annotation.txt"):
        import_ucf_crime(ucf)
