"""Import a labelled dataset from the browser: a manifest CSV and its videos, through `catalog.importing`.

Browsers send bare file names, so each file a manifest row names (its video, and its telemetry sidecar if the
optional `telemetry` column gives one) is matched to an uploaded file by its base name and placed at the row's
path inside a private staging folder. The staging folder is what the manifest
reader sees; it is deleted afterwards (the importer hard-links or copies each original into videos/<id>/, and
only after every file has passed the same video probe as an upload). A request larger than IMPORT_MAX_BYTES is
refused from its Content-Length, before Django reads its files to disk.
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from detection.datasets.manifest import unusable_path
from detection.errors import ManifestError
from webapp.accounts.roles import ANALYST
from webapp.catalog.access import get_area_or_404
from webapp.catalog.forms import ManifestImportForm
from webapp.catalog.importing import import_manifest
from webapp.uploads.protocol import human_size


def manifest_paths(manifest_text: str) -> list[str]:
    """The files a manifest names, as written: each row's video, and its telemetry sidecar if it has one."""
    rows = csv.DictReader(io.StringIO(manifest_text))
    columns = ("video", "telemetry")
    return [(row.get(name) or "").strip() for row in rows for name in columns if (row.get(name) or "").strip()]


def stage(folder: Path, manifest_text: str, files) -> list[str]:
    """Write the manifest and place each uploaded file at its row's path; return problems, if any."""
    by_name = {Path(f.name).name: f for f in files}
    problems = []
    for written in manifest_paths(manifest_text):
        unusable = unusable_path(written)
        if unusable:
            problems.append(unusable)
            continue
        relative = PurePosixPath(written.replace("\\", "/"))
        upload = by_name.get(relative.name)
        if upload is None:
            problems.append(f"{written}: no uploaded file is called {relative.name}")
            continue
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    (folder / "manifest.csv").write_text(manifest_text, encoding="utf-8")
    return problems


def too_large(request: HttpRequest) -> str:
    """Why the request body is over the import limit, or "" (read from Content-Length, so nothing is spooled)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ""
    limit = settings.IMPORT_MAX_BYTES
    if length <= limit:
        return ""
    return (f"the import is {human_size(length)}, larger than the {human_size(limit)} import limit "
            f"(SKERRY_IMPORT_MAX_BYTES); import the videos in smaller batches")


@require_http_methods(["GET", "POST"])
def manifest_import(request: HttpRequest, pk: int) -> HttpResponse:
    area = get_area_or_404(request, pk, role=ANALYST)
    if request.method == "POST" and (reason := too_large(request)):
        return render(request, "catalog/manifest_import.html", page_context(area, ManifestImportForm(), [reason]),
                      status=413)
    form = ManifestImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["manifest"].read().decode("utf-8-sig")
        except UnicodeDecodeError:
            text, problems = "", ["the manifest is not UTF-8 text"]
        folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            problems = problems or stage(folder, text, form.cleaned_data["videos"])
            if not problems:
                result = import_manifest(
                    folder / "manifest.csv", area_name=area.name, link="hard", user=request.user,
                    mission_per_folder=form.cleaned_data["mission_per_folder"],
                )
        except ManifestError as exc:
            problems = exc.problems
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if not problems:
            messages.success(
                request, f"Imported {len(result.created)} video(s) into {len(result.missions)} new mission(s); "
                f"{len(result.existing)} already in the area were skipped."
            )
            return redirect(area)
    return render(request, "catalog/manifest_import.html", page_context(area, form, problems),
                  status=400 if problems else 200)


def page_context(area, form, problems: list[str]) -> dict:
    return {"area": area, "form": form, "problems": problems, "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
            "max_size": human_size(settings.IMPORT_MAX_BYTES)}
