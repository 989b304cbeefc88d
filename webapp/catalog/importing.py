"""Load a dataset manifest (detection.datasets.manifest) into the catalog: an area, missions, labelled videos.

One video per manifest row, grouped into missions by folder (day01/, day02/, ...), its original copied or
linked to MEDIA_ROOT/videos/<id>/original<ext> (with a generated video's `.gt.npz` ground truth beside it, and
the row's `telemetry` sidecar as videos/<id>/telemetry<ext>, read at ingest), with sha256, label, split and labelled intervals; then its ingest is started. Every file is probed first as a
tus upload is, so a file that is not a video is refused before anything is stored, and <ext> comes from the
allow-list in video_files.py, never from a user-chosen name. A row whose checksum the area already holds is
skipped, so rerunning an import creates nothing new. Used by `manage.py import_dataset` and the manifest
upload page.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from detection.datasets.manifest import read_manifest
from detection.errors import ManifestError, VideoError
from detection.synth.groundtruth import groundtruth_path
from detection.types import VideoRecord
from webapp.catalog.models import Area, LabelInterval, Mission, Video
from webapp.catalog.telemetry import SidecarRejected, place_sidecar, sidecar_extension
from webapp.catalog.video_files import probe_video_file, safe_extension
from webapp.jobs import services

log = logging.getLogger(__name__)
LINK_MODES = ("hard", "symlink")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class ImportResult:
    """What an import did: the area, the videos it created, and the rows it skipped as already imported."""

    area: Area
    created: list[Video] = field(default_factory=list)
    existing: list[Video] = field(default_factory=list)
    missions: list[Mission] = field(default_factory=list)  # missions created by this import
    warnings: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_manifest(
    manifest: Path | str, *, area_name: str, mission_per_folder: bool = True, mission_name: str | None = None,
    link: str | None = None, start_ingest: bool = True, default_date: date | None = None, user=None,
    progress: Callable[[float, str], None] | None = None,
) -> ImportResult:
    """Import every row of `manifest` into the area `area_name` (created if missing).

    Missions: one per folder of the manifest (rows at its top level go to a mission named after the
    manifest's folder), or all in one (`mission_per_folder=False`, named `mission_name` or after the folder).
    A mission's date is an ISO date in its name if there is one, else `default_date` (today).
    `link`: None copies the files, "hard" hard-links them (copying across file systems), "symlink" links.
    Raises ManifestError (with line numbers) before touching the database if the manifest is invalid, and
    ManifestError naming each file that is not a video (probed as uploads are) before storing anything.
    """
    if link not in (None, *LINK_MODES):
        raise ValueError(f"link must be one of {LINK_MODES} or None, got {link!r}")
    manifest = Path(manifest)
    records = read_manifest(manifest)
    facts = probe_records(records)
    area, _ = Area.objects.get_or_create(name=area_name)
    result = ImportResult(area=area)
    missions: dict[str, Mission] = {}
    for number, record in enumerate(records):
        if progress:
            progress(number / max(len(records), 1), f"importing {record.video_id}")
        checksum = sha256_of(record.path)
        existing = Video.objects.filter(mission__area=area, sha256=checksum).first()
        if existing is not None:
            result.existing.append(existing)
            continue
        name = _mission_name(record, manifest, mission_per_folder, mission_name)
        if name not in missions:
            missions[name], created = Mission.objects.get_or_create(
                area=area, name=name,
                defaults={"date": _mission_date(name, default_date), "created_by": user,
                          "notes": f"Imported from {manifest.name}."},
            )
            if created:
                result.missions.append(missions[name])
        video = _create_video(missions[name], record, checksum, facts[record.video_id], link=link, user=user)
        if start_ingest:
            services.start_ingest(video, user=user)
        result.created.append(video)
    if progress:
        progress(1.0, "imported")
    return result


def probe_records(records: list[VideoRecord]) -> dict[str, dict]:
    """Each row's probed facts, by video_id; ManifestError naming every file that is not a video, and every
    telemetry sidecar of a kind the app does not read.

    The same probe and messages as a tus upload, so the import cannot store what an upload would refuse."""
    facts, problems = {}, []
    for record in records:
        path = Path(record.path)
        try:
            facts[record.video_id] = probe_video_file(path, path.name)
        except VideoError as exc:
            problems.append(f"{record.video_id}: {exc}")
        if record.telemetry is not None:
            try:
                sidecar_extension(Path(record.telemetry).name)
            except SidecarRejected as exc:
                problems.append(f"{record.video_id}: {exc}")
    if problems:
        raise ManifestError(problems)
    return facts


def _mission_name(record: VideoRecord, manifest: Path, per_folder: bool, single_name: str | None) -> str:
    folder_name = manifest.resolve().parent.name or "import"
    if not per_folder:
        return single_name or folder_name
    parent = str(PurePosixPath(record.video_id).parent)
    return folder_name if parent in ("", ".") else parent


def _mission_date(name: str, default_date: date | None) -> date:
    match = _ISO_DATE.search(name)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    return default_date or timezone.localdate()


def _create_video(mission: Mission, record: VideoRecord, checksum: str, facts: dict, *, link: str | None,
                  user) -> Video:
    """The Video row, its intervals and its original under MEDIA_ROOT, all or nothing."""
    source = Path(record.path)
    label = record.label or Video.Label.UNLABELLED
    target, placed = None, []
    try:
        with transaction.atomic():
            video = Video.objects.create(
                mission=mission, original_name=source.name, size_bytes=source.stat().st_size, sha256=checksum,
                label=label, split=record.split,
                labelled_by=user if record.label else None, labelled_at=timezone.now() if record.label else None,
                **facts,
            )
            LabelInterval.objects.bulk_create(
                LabelInterval(video=video, start=i.start, end=i.end, anomaly_class=i.anomaly_class, created_by=user)
                for i in record.intervals
            )
            relative = f"{video.media_dir}/original{safe_extension(source.name, facts['container'])}"
            target = Path(settings.MEDIA_ROOT) / relative
            _place_file(source, target, link)
            truth = groundtruth_path(source)
            if truth.is_file():  # a generated video's per-frame ground truth travels with it, for evaluation
                _place_file(truth, groundtruth_path(target), link)
            if record.telemetry is not None:
                placed.append(place_sidecar(video, Path(record.telemetry),
                                            lambda src, dst: _place_file(src, dst, link)))
            video.file = relative
            video.save(update_fields=["file"])
    except BaseException:
        if target is not None:
            for path in (target, groundtruth_path(target), *placed):
                if path.exists() or path.is_symlink():
                    path.unlink()
        raise
    return video


def _place_file(source: Path, target: Path, link: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target.unlink()  # left over from a row that was rolled back
    if link == "symlink":
        os.symlink(source.resolve(), target)
        return
    if link == "hard":
        try:
            os.link(source, target)
            return
        except OSError as exc:
            log.warning("cannot hard-link %s (%s); copying it instead", source, exc)
    shutil.copyfile(source, target)
