"""The export pipeline: a mission -> one zip of its events (CSV, JSON; the located ones as GeoJSON and KML),
standalone HTML report and manifest.

The members are what the report's own download links give (`webapp.reports.exports`), unfiltered, plus
manifest.csv: the mission's videos and labels in the library's manifest format
(`detection.datasets.manifest`), each video named by its original file name (and its telemetry sidecar, when it
has one, by the sidecar's uploaded name in the `telemetry` column), so that a folder holding the
originals under those names can be read back with `python -m detection` or `manage.py import_dataset`. Names and
classes that start with `=`, `+`, `-`, `@`, a tab or a carriage return are written with a leading `'` (as in
events.csv), so that a spreadsheet does not run them; such a name reads back with the quote.
The zip is written to a temporary name and moved into place at media/exports/<job id>/; a re-run rewrites it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings

from detection.atomic_files import replacing
from webapp.catalog.models import Mission, Video
from webapp.jobs.models import Job
from webapp.reports import exports, geo_exports
from webapp.reports.access import mission_events
from webapp.reports.strip import strip_figure
from workers.leftovers import remove_leftovers
from workers.progress import JobError, JobReporter

MEMBERS = ("events.csv", "events.json", "events.geojson", "events.kml", "report.html", "manifest.csv")


def export_path(job: Job) -> str:
    """Where the job's zip lives, relative to MEDIA_ROOT."""
    return f"exports/{job.pk}/mission-{job.mission_id}.zip"


def manifest_name(video: Video, taken: set[str]) -> str:
    """The video's original file name, prefixed with its id when another video of the mission has it."""
    name = video.original_name.replace("\\", "/").rsplit("/", 1)[-1] or f"video-{video.pk}"
    if name in taken:
        name = f"{video.pk}-{name}"
    taken.add(name)
    return name


def sidecar_name(video: Video, taken: set[str]) -> str:
    """The telemetry sidecar's uploaded file name, prefixed with the video's id when another sidecar has it."""
    name = video.telemetry_name.replace("\\", "/").rsplit("/", 1)[-1] or f"video-{video.pk}.SRT"
    if name in taken:
        name = f"{video.pk}-{name}"
    taken.add(name)
    return name


def mission_manifest(mission: Mission) -> str:
    """manifest.csv text for the mission's videos (label, split, intervals and classes from the catalog), with a
    `telemetry` column naming each read sidecar by its uploaded name when some video has one."""
    from detection.datasets.manifest import write_manifest

    taken: set[str] = set()
    with tempfile.TemporaryDirectory() as folder:
        records = []
        for video in mission.videos.prefetch_related("intervals").order_by("original_name", "pk"):
            name = manifest_name(video, taken)
            record = video.as_record(path=Path(name), video_id=name)
            if record.telemetry is not None:  # named beside the video, as the manifest reader expects
                record = dataclasses.replace(record, telemetry=Path(folder) / sidecar_name(video, taken))
            records.append(record)
        return spreadsheet_safe_csv(write_manifest(Path(folder) / "manifest.csv", records).read_text(encoding="utf-8"))


def spreadsheet_safe_csv(text: str) -> str:
    """The same CSV with every cell passed through `spreadsheet_safe` (the library writes plain manifests)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([exports.spreadsheet_safe(cell) for cell in row] for row in csv.reader(io.StringIO(text)))
    return out.getvalue()


def run_export(job: Job, reporter: JobReporter) -> dict:
    mission = Mission.objects.select_related("area").filter(pk=job.mission_id).first()
    if mission is None:
        raise JobError("the mission of this export job was deleted")
    reporter.progress(0.05, "Collecting the events", force=True)
    events = mission_events(mission)
    rows = exports.event_rows(events)
    about = exports.mission_json(mission)
    texts = {"events.csv": exports.events_csv(rows),
             "events.json": json.dumps({"mission": about, "events": rows}, indent=1),
             "events.geojson": geo_exports.events_geojson(rows, about),
             "events.kml": geo_exports.events_kml(rows, about)}
    reporter.progress(0.2, f"Rendering the standalone report ({len(rows)} events)", force=True)
    texts["report.html"] = exports.standalone_report(mission, events, strip_figure(mission, events))
    reporter.progress(0.8, "Writing the manifest", force=True)
    texts["manifest.csv"] = mission_manifest(mission)
    reporter.progress(0.9, "Writing the zip", force=True)
    relative = export_path(job)
    target = Path(settings.MEDIA_ROOT) / relative
    write_zip(target, f"mission-{mission.pk}", texts)
    return {"zip": relative, "events": len(rows), "videos": mission.videos.count(), "bytes": target.stat().st_size}


def write_zip(target: Path, folder: str, texts: dict[str, str]) -> None:
    """Members under `folder/` in the zip, written to a temporary name and moved into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target.parent, ".*")  # a killed earlier run's partial zip
    with replacing(target) as staging, zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in MEMBERS:
            archive.writestr(f"{folder}/{name}", texts[name])
