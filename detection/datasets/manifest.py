"""The manifest: one CSV that describes any set of labelled videos, read with line-numbered validation.

    video,label,split,intervals,classes
    day01/patrol_a.mp4,normal,train,,
    day05/patrol_c.mp4,anomalous,test,12.5-20.0;41-44.5,boat;person

Paths are relative to the manifest's folder. `label` is normal, anomalous or empty (unlabelled); `split`
train, val, test or empty (filled by `detection.datasets.splits.assign_splits`); `intervals` anomalous spans
in seconds joined by ';' (a video labelled anomalous without them is a weak label); `classes` one class per
interval, optional. An optional `telemetry` column names the video's telemetry sidecar (a DJI .SRT, GPX, CSV;
see `detection.telemetry`), relative like the video; manifests without it read as before. Other extra columns
are ignored.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path, PurePosixPath

from detection.errors import ManifestError, VideoError
from detection.types import Interval, VideoRecord

COLUMNS = ("video", "label", "split", "intervals", "classes")
OPTIONAL_COLUMNS = ("telemetry",)
LABELS = ("normal", "anomalous", "")
SPLITS = ("train", "val", "test", "")
DURATION_TOLERANCE = 0.05  # seconds an interval may run past the probed duration (rounding, last frame)
_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_INTERVAL = re.compile(rf"^\s*({_NUMBER})\s*-\s*({_NUMBER})\s*$")
NAME_MAX = 255  # bytes in one file or folder name on Linux and macOS file systems


def read_manifest(path: Path | str, *, check_files: bool = True, probe_durations: bool = True) -> list[VideoRecord]:
    """The records of a manifest, paths resolved against its folder; `video_id` is the path as written.

    Raises ManifestError listing every problem with its line number: a missing file, an unknown label or
    split, bad interval syntax, an interval reversed or outside the video (durations probed unless
    `probe_durations` is False), intervals on a normal or unlabelled video, a classes count that does not
    match the intervals, a path that leaves the manifest's folder, a duplicate row.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([f"{path}: cannot read the manifest: {exc}"]) from exc
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise ManifestError([f"{path.name} line 1: empty manifest; expected the header {','.join(COLUMNS)}"])
    header = [name.strip().lower() for name in header]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ManifestError([f"{path.name} line 1: missing column(s) {', '.join(missing)}; "
                             f"the header must be {','.join(COLUMNS)}"])
    column = {name: header.index(name) for name in COLUMNS + OPTIONAL_COLUMNS if name in header}
    folder = path.parent.resolve()
    problems: list[str] = []
    records: list[VideoRecord] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in column.items()}
        cells.setdefault("telemetry", "")
        where = f"{path.name} line {line}"
        record, row_problems = _read_row(cells, folder, where, check_files, probe_durations)
        if record is not None and record.video_id in seen:
            row_problems.append(f"{where}: duplicate of line {seen[record.video_id]} ({record.video_id})")
        problems.extend(row_problems)
        if record is not None and not row_problems:
            seen[record.video_id] = line
            records.append(record)
        elif record is not None:
            seen.setdefault(record.video_id, line)
    if problems:
        raise ManifestError(problems)
    return records


def _read_row(cells: dict, folder: Path, where: str, check_files: bool, probe_durations: bool):
    problems: list[str] = []
    written = cells["video"].replace("\\", "/")
    if not written:
        return None, [f"{where}: the video column is empty"]
    relative, problem = _relative_path(written, where)
    if problem:
        return None, [problem]
    video_id = str(relative)
    video_path = folder / Path(*relative.parts)
    exists = video_path.is_file()
    if check_files and not exists:
        problems.append(f"{where}: file not found: {video_id}")
    telemetry = None
    if cells["telemetry"]:
        sidecar, problem = _relative_path(cells["telemetry"].replace("\\", "/"), where)
        if problem:
            problems.append(problem)
        else:
            telemetry = folder / Path(*sidecar.parts)
            if check_files and not telemetry.is_file():
                problems.append(f"{where}: telemetry file not found: {sidecar}")

    label = cells["label"].lower()
    if label not in LABELS:
        problems.append(f"{where}: unknown label {cells['label']!r} (use normal, anomalous or leave it empty)")
    split = cells["split"].lower()
    if split not in SPLITS:
        problems.append(f"{where}: unknown split {cells['split']!r} (use train, val, test or leave it empty)")

    spans = []
    parts = [p.strip() for p in cells["intervals"].split(";") if p.strip()]
    for part in parts:
        match = _INTERVAL.match(part)
        if not match:
            problems.append(f"{where}: bad interval {part!r}: expected start-end in seconds, e.g. 12.5-20")
            continue
        start, end = float(match.group(1)), float(match.group(2))
        if end <= start:
            problems.append(f"{where}: interval {part} is reversed or empty (the end must come after the start)")
        spans.append((start, end, part))
    classes = [c.strip() for c in cells["classes"].split(";")] if cells["classes"] else []
    if classes and len(classes) != len(parts):
        problems.append(f"{where}: {len(classes)} class(es) for {len(parts)} interval(s); give one class per "
                        f"interval or none")
    if parts and label == "normal":
        problems.append(f"{where}: intervals on a normal video (label it anomalous, or remove the intervals)")
    elif parts and label == "":
        problems.append(f"{where}: intervals on an unlabelled video (label it anomalous)")

    if spans and exists and probe_durations:
        try:
            duration = probe_duration(video_path)
        except VideoError as exc:
            problems.append(f"{where}: {video_id} cannot be read as a video: {exc}")
        else:
            for _start, end, part in spans:
                if end > duration + DURATION_TOLERANCE:
                    problems.append(f"{where}: interval {part} lies outside the video ({duration:.2f} s long)")
    intervals = tuple(
        Interval(start, end, classes[i] if len(classes) == len(spans) else "")
        for i, (start, end, _) in enumerate(spans)
    )
    record = VideoRecord(path=video_path, label=label, split=split, intervals=intervals, video_id=video_id,
                         telemetry=telemetry)
    return record, problems


def _relative_path(written: str, where: str) -> tuple[PurePosixPath | None, str]:
    """The path as written (a video's or a sidecar's), or a problem if it cannot name a file in the folder."""
    unusable = unusable_path(written)
    if unusable:
        return None, f"{where}: {unusable}"
    return PurePosixPath(written.replace("\\", "/")), ""


def unusable_path(written: str) -> str | None:
    """Why a manifest's `video` path cannot name a file inside its folder, or None when it can.

    Checked before the path touches the file system: a NUL makes every os call raise ValueError and a
    name over NAME_MAX bytes raises OSError, and a path that leaves the folder must never be opened."""
    written = written.replace("\\", "/")
    relative = PurePosixPath(written)
    if relative.is_absolute() or re.match(r"^[A-Za-z]:", written) or ".." in relative.parts:
        return f"{written} escapes the manifest's folder (use a path relative to it, without ..)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in written):
        return f"{written!r} contains a control character (such as NUL)"
    if any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in relative.parts):
        return f"{written[:60]}...: a file or folder name is longer than {NAME_MAX} bytes"
    return None


def probe_duration(path: Path) -> float:
    """A video's duration in seconds (detection.video.probe when present, else PyAV directly)."""
    try:
        from detection.video.probe import probe
    except ImportError:
        return _pyav_duration(path)
    return float(probe(path).duration)


def _pyav_duration(path: Path) -> float:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path.name} has no video stream")
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
            rate = float(stream.average_rate or 0)
            return stream.frames / rate if rate and stream.frames else 0.0
    except av.FFmpegError as exc:
        raise VideoError(f"{path.name} is not a readable video: {exc}") from exc


def format_seconds(value: float) -> str:
    """12.5 -> '12.5', 41.0 -> '41', 9.999 -> '9.999' (at most 3 decimals)."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def write_manifest(path: Path | str, records: list[VideoRecord]) -> Path:
    """Write records as a manifest; each path is written relative to the manifest's folder (`video_id` if set).

    The `telemetry` column is written only when some record has a sidecar, so other manifests stay as they were.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent.resolve()
    with_telemetry = any(record.telemetry is not None for record in records)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS + OPTIONAL_COLUMNS if with_telemetry else COLUMNS)
        for record in records:
            if record.video_id:
                relative = record.video_id
            else:
                relative = Path(record.path).resolve().relative_to(folder).as_posix()
            intervals = ";".join(f"{format_seconds(i.start)}-{format_seconds(i.end)}" for i in record.intervals)
            classes = ";".join(i.anomaly_class for i in record.intervals)
            if not any(i.anomaly_class for i in record.intervals):
                classes = ""
            row = [relative, record.label, record.split, intervals, classes]
            if with_telemetry:
                sidecar = record.telemetry
                row.append("" if sidecar is None else Path(sidecar).resolve().relative_to(folder).as_posix())
            writer.writerow(row)
    return path
