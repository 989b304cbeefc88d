"""The mission map, the area map, the mosaic's tiles (and whole levels of older mosaics), and building an area's
mosaic on demand."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.roles import ANALYST
from webapp.catalog import masks, references
from webapp.catalog.access import area_page_roles, get_area_or_404, get_mission_or_404
from webapp.core.media import stored_file_response
from webapp.core.params import BadParameter, parse_json_object
from webapp.detectors.models import Event
from webapp.jobs.models import Job
from webapp.jobs.quotas import JobLimitReached
from webapp.maps import drawing, mosaics
from webapp.maps.payload import area_events, area_map_payload, ground_mask_shapes, mission_map_payload
from webapp.reports.access import mission_events

UNCLASSIFIED = "unclassified"


@require_GET
def mission_map(request, pk: int):
    mission = get_mission_or_404(request, pk)
    payload = mission_map_payload(mission, list(mission_events(mission)))
    context = {**area_page_roles(request.user, mission.area), "mission": mission, "area": mission.area,
               "payload": payload, "payload_json": json.dumps(payload),
               "building": mosaics.active_mosaic_job(mission.area)}
    return render(request, "maps/mission_map.html", context)


class AreaMapFilter:
    """The area map's filters from the query string: mission dates from/to, the class a reviewer gave the event;
    bad values are reported on the page and ignored."""

    def __init__(self, params, area):
        self.errors: list[str] = []
        self.start = self._date(params.get("from", ""), "from")
        self.end = self._date(params.get("to", ""), "to")
        self.classes = sorted(set(Event.objects.filter(score_run__video__mission__area=area,
                                                       review=Event.Review.CONFIRMED).exclude(anomaly_class="")
                                  .values_list("anomaly_class", flat=True)))
        self.event_class = params.get("class", "")
        if self.event_class and self.event_class not in (*self.classes, UNCLASSIFIED):
            self.errors.append(f"no confirmed event of this area has the class {self.event_class!r}")
            self.event_class = ""

    def _date(self, text: str, name: str) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            self.errors.append(f"the {name!r} date must be YYYY-MM-DD, not {text!r}")
            return None

    def apply(self, events):
        if self.start:
            events = events.filter(score_run__video__mission__date__gte=self.start)
        if self.end:
            events = events.filter(score_run__video__mission__date__lte=self.end)
        if self.event_class == UNCLASSIFIED:
            events = events.filter(anomaly_class="")
        elif self.event_class:
            events = events.filter(anomaly_class=self.event_class)
        return events


@require_GET
def area_map(request, pk: int):
    area = get_area_or_404(request, pk)
    filters = AreaMapFilter(request.GET, area)
    events = filters.apply(area_events(area))
    payload = area_map_payload(area, events)
    context = {**area_page_roles(request.user, area), "area": area, "filters": filters, "unclassified": UNCLASSIFIED,
               "payload": payload, "payload_json": json.dumps(payload), "building": mosaics.active_mosaic_job(area)}
    return render(request, "maps/area_map.html", context)


@require_POST
def area_map_mask(request, pk: int):
    """An analyst saves a mask drawn on the area map: {"points": [[east, north], ...] map metres, "name": "",
    "mosaic": the id of the mosaic job drawn on}. Answers the map's mask outlines, the events now inside the new
    one, and the share of the frames the masks cover (as the area page says it); 409 after a mosaic rebuild."""
    area = get_area_or_404(request, pk, role=ANALYST)
    try:
        body = _json_object(request)
        mosaic = drawing.drawing_mosaic(area, body.get("mosaic"))
        mask = drawing.add_map_mask(area, mosaic, body.get("points"), request.user, body.get("name", ""))
    except ValidationError as exc:
        status = 409 if isinstance(exc, drawing.MosaicChanged) else 400
        return JsonResponse({"error": " ".join(exc.messages)}, status=status)
    state = masks.masks_state(area, masks.drawing_frame(area, references.reference_set(area)))
    return JsonResponse({"mask": {"id": mask.pk, "name": mask.name or f"mask {mask.pk}"},
                         "masks": ground_mask_shapes(area, mosaic.info.origin),
                         "inside": drawing.events_inside(area, mask), "masked_share": state["masked_share"],
                         "ground_share": state["ground_share"]}, status=201)


def _json_object(request) -> dict:
    try:
        return parse_json_object(request.body)
    except BadParameter as exc:
        raise ValidationError(str(exc)) from None


@require_POST
def area_mosaic_build(request, pk: int):
    """An analyst (re)builds the area's mosaic from its reference flight."""
    area = get_area_or_404(request, pk, role=Job.role_to_start(Job.Kind.MOSAIC))
    try:
        job = mosaics.build_mosaic(area, user=request.user)
    except (ValidationError, JobLimitReached) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Mosaic job #{job.pk} queued from “{job.video.original_name}”; the maps "
                                  "show it when it is done.")
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else area.get_absolute_url())


def _stored_mosaic(request, pk: int, job: int):
    """The folder and description of one of the area's built mosaics (the newest or an older one still on
    disk), for a user who may see the area; 404 otherwise."""
    from detection.mapping.pyramid import load_info

    area = get_area_or_404(request, pk)
    the_job = get_object_or_404(Job, pk=job, kind=Job.Kind.MOSAIC, state=Job.State.SUCCEEDED,
                                video__mission__area=area)
    folder = str(the_job.result.get("folder", ""))
    if folder != f"areas/{area.pk}/mosaics/{the_job.pk}":
        raise Http404("this mosaic's files are gone")
    try:
        return Path(settings.MEDIA_ROOT) / folder, load_info(Path(settings.MEDIA_ROOT) / folder)
    except ValueError as exc:
        raise Http404("this mosaic's files are gone") from exc


def _mosaic_image(request, path: Path):
    if not path.is_file():
        raise Http404("this mosaic image's file is gone")
    response = stored_file_response(request, path)
    response["Cache-Control"] = "private, max-age=86400"  # a job's mosaic never changes: a rebuild is a new job
    return response


@require_GET
def mosaic_tile(request, pk: int, job: int, level: int, x: int, y: int):
    """One JPEG tile of one of the area's mosaics: column `x`, row `y` of `level` (0 the finest)."""
    folder, info = _stored_mosaic(request, pk, job)
    name = info.tile_file(level, x, y)
    if name is None:
        raise Http404("no such tile in this mosaic" if info.tiled else "this mosaic was stored before tiles")
    return _mosaic_image(request, folder / name)


@require_GET
def mosaic_level(request, pk: int, job: int, level: int):
    """One whole JPEG level of a mosaic stored before tiles (version 1); a tiled mosaic's come as tiles."""
    folder, info = _stored_mosaic(request, pk, job)
    if level >= len(info.levels) or not info.levels[level].file:
        raise Http404("no such mosaic level")
    return _mosaic_image(request, folder / info.levels[level].file)
