"""Importers that describe existing video collections as a manifest (written as `manifest.csv` in their root).

- `import_folder(root)`: videos under `normal/` and `anomalous/` (any depth), labelled by folder.
- `import_ucf_crime(root)`: the UCF-Crime layout (class folders such as Abuse/, Arson/, Normal videos, and
  `Temporal_Anomaly_Annotation*.txt` with `name class s1 e1 s2 e2` in frames, -1 for none). Annotated videos
  become the test split with intervals in seconds; the rest are weakly labelled and split 90/10 into
  train and val, as the origin report's MIL experiment trained.
"""

from __future__ import annotations

import re
from pathlib import Path

from detection.datasets.manifest import probe_duration, write_manifest
from detection.datasets.splits import assign_splits
from detection.errors import ManifestError, VideoError
from detection.types import Interval, VideoRecord

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".wmv"}
MANIFEST_NAME = "manifest.csv"


def find_videos(folder: Path) -> list[Path]:
    """Video files under `folder`, any depth, sorted, hidden files skipped."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")
    )


def import_folder(root: Path | str) -> Path:
    """Write `root/manifest.csv` for the videos under `root/normal/` and `root/anomalous/`; return its path."""
    root = Path(root)
    records = []
    for label in ("normal", "anomalous"):
        folder = root / label
        if folder.is_dir():
            records += [_record(root, path, label) for path in find_videos(folder)]
    if not (root / "normal").is_dir() and not (root / "anomalous").is_dir():
        raise ManifestError([f"{root}: expected a normal/ and an anomalous/ subfolder of videos"])
    if not records:
        raise ManifestError([f"{root}: no video files under normal/ or anomalous/"])
    return write_manifest(root / MANIFEST_NAME, records)


def _record(root: Path, path: Path, label: str, split: str = "", intervals=()) -> VideoRecord:
    return VideoRecord(path=path, label=label, split=split, intervals=tuple(intervals),
                       video_id=path.relative_to(root).as_posix())


def import_ucf_crime(root: Path | str) -> Path:
    """Write `root/manifest.csv` for a UCF-Crime copy (whole or in part); return its path.

    Annotation rows whose video is not under `root` are skipped, so a partial download imports too.
    """
    root = Path(root)
    videos = {path.name: path for path in find_videos(root)}
    if not videos:
        raise ManifestError([f"{root}: no video files found"])
    annotations = _read_annotations(root)
    test, rest = [], []
    for name, path in sorted(videos.items()):
        if name in annotations:
            anomaly_class, frames = annotations[name]
            test.append(_annotated_record(root, path, anomaly_class, frames))
        else:
            normal = _is_normal(path, root)
            rest.append(_record(root, path, "normal" if normal else "anomalous"))
    rest = assign_splits(rest, seed=0, fractions=(0.9, 0.1, 0.0))
    records = sorted(test + rest, key=lambda r: r.video_id)
    return write_manifest(root / MANIFEST_NAME, records)


def _read_annotations(root: Path) -> dict[str, tuple[str, list[int]]]:
    files = sorted(root.rglob("Temporal_Anomaly_Annotation*.txt"))
    if not files:
        raise ManifestError([f"{root}: no Temporal_Anomaly_Annotation.txt found (the UCF-Crime test labels)"])
    annotations = {}
    problems = []
    for line_number, line in enumerate(files[0].read_text().splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6 or not all(re.fullmatch(r"-?\d+", p) for p in parts[2:]):
            problems.append(f"{files[0].name} line {line_number}: expected 'name class s1 e1 s2 e2' (frames, "
                            f"-1 for none), got {line.strip()!r}")
            continue
        annotations[parts[0]] = (parts[1], [int(p) for p in parts[2:]])
    if problems:
        raise ManifestError(problems)
    return annotations


def _annotated_record(root: Path, path: Path, anomaly_class: str, frames: list[int]) -> VideoRecord:
    spans = [(s, e) for s, e in zip(frames[::2], frames[1::2]) if s >= 0 and e >= 0]
    if anomaly_class.lower() == "normal" or not spans:
        return _record(root, path, "normal", "test")
    fps, duration = _fps_and_duration(path)
    intervals = []
    for start, end in spans:
        start_s, end_s = start / fps, min(end / fps, duration)
        if end_s > start_s:
            intervals.append(Interval(round(start_s, 3), round(end_s, 3), anomaly_class))
    return _record(root, path, "anomalous", "test", intervals)


def _fps_and_duration(path: Path) -> tuple[float, float]:
    try:
        from detection.video.probe import probe
    except ImportError:
        probe = None
    if probe is not None:
        info = probe(path)
        return float(info.fps), float(info.duration)
    import av

    try:
        with av.open(str(path)) as container:
            rate = float(container.streams.video[0].average_rate or 0)
    except (av.FFmpegError, IndexError) as exc:
        raise VideoError(f"{path.name} is not a readable video: {exc}") from exc
    if rate <= 0:
        raise VideoError(f"{path.name}: unknown frame rate, cannot convert annotated frames to seconds")
    return rate, probe_duration(path)


def _is_normal(path: Path, root: Path) -> bool:
    names = [part.lower() for part in path.relative_to(root).parts]
    return names[-1].startswith("normal") or any("normal" in part for part in names[:-1])
