"""Pages for areas, missions and videos, and the JSON endpoints the video page saves labels through."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.accounts.roles import ADMIN, ANALYST, VIEWER, require_role, teams_where
from webapp.catalog import deletion, labelling, masks, references, telemetry
from webapp.catalog.access import (
    area_page_roles,
    areas_where,
    check_area,
    get_area_or_404,
    get_interval_or_404,
    get_mission_or_404,
    get_video_or_404,
)
from webapp.catalog.forms import AreaForm, MissionForm, TrainDetectorForm
from webapp.catalog.models import Mission, Video
from webapp.catalog.search import MissionSearch, missions_page
from webapp.core.params import BadParameter, parse_json_object
from webapp.detectors.models import Detector
from webapp.jobs import services
from webapp.jobs.kinds import INTERNAL_JOB_KINDS
from webapp.jobs.models import Job
from webapp.jobs.quotas import JobLimitReached
from webapp.maps import mosaics
from webapp.reports.reviews import reviews_since_training

AREA_MISSIONS_SHOWN = 20  # the newest; the rest are a search away (/missions/?area=)


@require_http_methods(["GET", "POST"])
def areas(request: HttpRequest) -> HttpResponse:
    require_role(request.user, VIEWER)
    admin_of = teams_where(request.user, ADMIN)
    form = AreaForm(teams=admin_of) if admin_of != [] else None
    if request.method == "POST":
        require_role(request.user, ADMIN)  # of some team: the form offers only those teams
        form = AreaForm(request.POST, teams=admin_of)
        if form.is_valid():
            area = form.save()
            messages.success(request, f"Area “{area.name}” created.")
            return redirect(area)
    listing = areas_where(request.user).select_related("team").annotate(
        mission_count=Count("missions", distinct=True), detector_count=Count("detectors", distinct=True)
    )
    return render(request, "catalog/areas.html", {"areas": listing, "form": form})


@require_GET
def area(request: HttpRequest, pk: int) -> HttpResponse:
    the_area = get_area_or_404(request, pk)
    chosen = references.reference_set(the_area)
    mask_frame = masks.drawing_frame(the_area, chosen)
    context = {
        **area_page_roles(request.user, the_area),
        "area": the_area,
        "missions": the_area.missions.annotate(video_count=Count("videos"))[:AREA_MISSIONS_SHOWN],
        "mission_count": the_area.missions.count(),
        "detectors": with_reviews_since(the_area.detectors.all()),
        "train_form": TrainDetectorForm(),
        "references": chosen,
        "mask_frame": mask_frame,
        "mask_on_ground": mask_frame is not None and masks.flight_camera(mask_frame) is not None,
        "mask_state": masks.masks_state(the_area, mask_frame),
        "default_references": references.DEFAULT_REFERENCE_COUNT,
        "jobs": Job.objects.filter(detector__area=the_area).exclude(kind__in=INTERNAL_JOB_KINDS)
                           .select_related("detector")[:10],
        "mosaic": mosaics.current_mosaic(the_area), "mosaic_job": mosaics.active_mosaic_job(the_area),
    }
    return render(request, "catalog/area.html", context)


def with_reviews_since(detectors) -> list:
    """The detectors, each with `reviews_since`: the reviews a retraining would add."""
    found = list(detectors)
    for detector in found:
        detector.reviews_since = reviews_since_training(detector)
    return found


@require_POST
def train_detector(request: HttpRequest, pk: int) -> HttpResponse:
    the_area = get_area_or_404(request, pk, role=Job.role_to_start(Job.Kind.TRAIN))
    form = TrainDetectorForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[name].label or name}: {' '.join(errors)}"
                             for name, errors in form.errors.items())
        messages.error(request, f"Could not start training. {problems}")
        return redirect(the_area)
    kind = form.cleaned_data["kind"]
    name = form.cleaned_data["name"] or f"{kind.upper()} {timezone.now():%Y-%m-%d %H:%M}"
    with transaction.atomic():
        detector = Detector.objects.create(area=the_area, kind=kind, name=name, created_by=request.user,
                                           config=form.detector_config(),
                                           is_active=form.cleaned_data["activate"])
        try:
            services.start_training(detector, user=request.user)
        except JobLimitReached as exc:
            transaction.set_rollback(True)
            messages.error(request, f"Could not start training: {exc}.")
            return redirect(the_area)
    messages.success(request, f"Training of “{detector.name}” queued.")
    return redirect(the_area)


@require_GET
def missions(request: HttpRequest) -> HttpResponse:
    require_role(request.user, VIEWER)
    search = MissionSearch(request.GET)
    visible = Mission.objects.filter(area__in=areas_where(request.user))
    page = missions_page(visible, search, request.GET.get("page"))
    context = {"search": search, "page": page, "query": search.query(),
               "areas": areas_where(request.user).order_by("name")}
    # Bad filter values are shown above what the valid ones give, with a 400 status.
    return render(request, "catalog/missions.html", context, status=400 if search.errors else 200)


@require_http_methods(["GET", "POST"])
def mission_create(request: HttpRequest) -> HttpResponse:
    require_role(request.user, ANALYST)
    areas = areas_where(request.user, ANALYST)
    if request.method == "POST":
        form = MissionForm(request.POST, areas=areas)
        if form.is_valid():
            check_area(request.user, form.cleaned_data["area"], ANALYST)
            mission = form.save(commit=False)
            mission.created_by = request.user
            mission.save()
            messages.success(request, f"Mission “{mission.name}” created. Add its videos below.")
            return redirect(mission)
    else:
        form = MissionForm(initial={"area": request.GET.get("area"), "date": timezone.localdate()}, areas=areas)
    return render(request, "catalog/mission_create.html", {"form": form})


def has_poster(video: Video) -> bool:
    return (Path(settings.MEDIA_ROOT) / video.poster_path).is_file()


@require_GET
def mission(request: HttpRequest, pk: int) -> HttpResponse:
    the_mission = get_mission_or_404(request, pk)
    videos = list(the_mission.videos.select_related("labelled_by").annotate(interval_count=Count("intervals")))
    for each in videos:
        each.has_poster = has_poster(each)
    context = {
        **area_page_roles(request.user, the_mission.area),
        "mission": the_mission,
        "videos": videos,
        "jobs": Job.objects.filter(Q(mission=the_mission) | Q(video__mission=the_mission))
                           .exclude(kind__in=INTERNAL_JOB_KINDS).select_related("video")[:10],
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
        "upload_chunk_bytes": settings.UPLOAD_CHUNK_BYTES,
        "telemetry_max_bytes": settings.TELEMETRY_MAX_BYTES,
    }
    return render(request, "catalog/mission.html", context)


@require_GET
def mission_videos_json(request: HttpRequest, pk: int) -> JsonResponse:
    the_mission = get_mission_or_404(request, pk)
    rows = [
        {"id": v.pk, "name": v.original_name, "status": v.status, "status_display": v.get_status_display(),
         "error": v.error, "label": v.label, "duration": v.duration, "url": v.get_absolute_url()}
        for v in the_mission.videos.all()
    ]
    return JsonResponse({"videos": rows})


@require_POST
def mission_score(request: HttpRequest, pk: int) -> HttpResponse:
    the_mission = get_mission_or_404(request, pk, role=Job.role_to_start(Job.Kind.SCORE))
    if not the_mission.videos.filter(status=Video.Status.READY).exists():
        messages.error(request, "No video of this mission is ready to score yet.")
        return redirect(the_mission)
    try:
        job = services.start_scoring(the_mission, user=request.user)
    except JobLimitReached as exc:
        messages.error(request, f"Could not start scoring: {exc}.")
        return redirect(the_mission)
    if job is None:
        messages.error(request, services.NO_DETECTOR)
    else:
        messages.success(request, "Scoring queued; progress shows under Jobs.")
    return redirect(the_mission)


@require_POST
def mission_delete(request: HttpRequest, pk: int) -> HttpResponse:
    the_mission = get_mission_or_404(request, pk, role=ADMIN)
    the_area, name = the_mission.area, the_mission.name
    deletion.delete_mission(the_mission)
    messages.success(request, f"Mission “{name}” and its videos deleted.")
    return redirect(the_area)


@require_GET
def video(request: HttpRequest, pk: int) -> HttpResponse:
    the_video = get_video_or_404(request, pk)
    the_video.has_poster = has_poster(the_video)
    siblings = list(the_video.mission.videos.values_list("pk", flat=True))
    index = siblings.index(the_video.pk)
    poses = telemetry.load_poses(the_video)
    context = {
        **area_page_roles(request.user, the_video.mission.area),
        "video": the_video,
        "mission": the_video.mission,
        "intervals": [labelling.interval_as_dict(i) for i in the_video.intervals.select_related("created_by")],
        "previous_id": siblings[index - 1] if index > 0 else None,
        "next_id": siblings[index + 1] if index + 1 < len(siblings) else None,
        "jobs": the_video.jobs.exclude(kind__in=INTERNAL_JOB_KINDS).select_related("video__mission")[:10],
        "labels": Video.Label.choices,
        "label_status": labelling.label_status(the_video),
        "classes": labelling.class_choices(the_video),
        "pose": telemetry.pose_readout(poses, 0.0) if poses is not None else None,
        "telemetry_max_bytes": settings.TELEMETRY_MAX_BYTES,
    }
    return render(request, "catalog/video.html", context)


@require_POST
def video_delete(request: HttpRequest, pk: int) -> HttpResponse:
    the_video = get_video_or_404(request, pk, role=ADMIN)
    the_mission, name = the_video.mission, the_video.original_name
    deletion.delete_video(the_video)
    messages.success(request, f"Video “{name}” deleted.")
    return redirect(the_mission)


def _json_body(request: HttpRequest) -> dict:
    try:
        return parse_json_object(request.body)
    except BadParameter as exc:
        raise ValidationError(str(exc)) from None


def _error(exc: ValidationError) -> JsonResponse:
    return JsonResponse({"error": " ".join(exc.messages)}, status=400)


@require_http_methods(["GET", "POST"])
def area_masks(request: HttpRequest, pk: int) -> JsonResponse:
    """The area's masks. An analyst adds one with {"points": [[x, y], ...], "name": ""} (fractions of the drawing
    frame; with "on_ground": true fixed to the ground through its pose), or {"ground_points": [[latitude,
    longitude], ...], "name": ""}."""
    the_area = get_area_or_404(request, pk)
    drawn_on = masks.drawing_frame(the_area, references.reference_set(the_area))
    if request.method == "POST":
        check_area(request.user, the_area, ANALYST)
        try:
            body = _json_body(request)
            if body.get("ground_points") is not None:
                mask = masks.add_ground_mask(the_area, body["ground_points"], request.user, body.get("name", ""))
            else:
                mask = masks.add_mask(the_area, body.get("points"), request.user, body.get("name", ""),
                                      on_ground=body.get("on_ground") is True, drawn_on=drawn_on)
        except ValidationError as exc:
            return _error(exc)
        return JsonResponse({"mask": masks.mask_as_dict(mask, drawn_on), **masks.masks_state(the_area, drawn_on)},
                            status=201)
    return JsonResponse(masks.masks_state(the_area, drawn_on))


@require_POST
def area_mask_delete(request: HttpRequest, pk: int, mask: int) -> JsonResponse:
    the_area = get_area_or_404(request, pk, role=ANALYST)
    deleted, _ = the_area.masks.filter(pk=mask).delete()
    if not deleted:
        return JsonResponse({"error": "no such mask in this area"}, status=404)
    return JsonResponse(masks.masks_state(the_area, masks.drawing_frame(the_area, references.reference_set(the_area))))


@require_POST
def video_reference(request: HttpRequest, pk: int) -> HttpResponse:
    """An analyst pins a video as a reference flight of its area's CHANGE detectors, or unpins it."""
    the_video = get_video_or_404(request, pk, role=ANALYST)
    pinned = request.POST.get("pinned") == "1"
    try:
        references.set_pinned(the_video, pinned)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        state = "is now pinned as a reference flight" if pinned else "is no longer pinned as a reference flight"
        messages.success(request, f"“{the_video.original_name}” {state}; CHANGE detectors trained from now on "
                                  "use the new reference set.")
        if mosaics.refresh_mosaic(the_video.mission.area, request.user):
            messages.info(request, "The area mosaic is being rebuilt from the new reference flight.")
    back = the_video.mission.area if request.POST.get("back") == "area" else the_video
    return redirect(back)


@require_POST
def video_label(request: HttpRequest, pk: int) -> JsonResponse:
    """Set the whole-video label; {"label", "discard_intervals"?}. A label that would delete the video's
    intervals answers 409 (with their count) unless discard_intervals is true: the page asks first."""
    the_video = get_video_or_404(request, pk, role=ANALYST)
    try:
        body = _json_body(request)
        labelling.set_video_label(the_video, body.get("label"), request.user,
                                  discard_intervals=body.get("discard_intervals") is True)
    except labelling.IntervalsWouldBeLost as exc:
        return JsonResponse({"error": " ".join(exc.messages), "needs_confirm": True, "interval_count": exc.count},
                            status=409)
    except ValidationError as exc:
        return _error(exc)
    mosaics.refresh_mosaic(the_video.mission.area, request.user)  # a label can change the reference set
    return JsonResponse(labelling.label_as_dict(the_video))


@require_http_methods(["GET", "POST"])
def video_intervals(request: HttpRequest, pk: int) -> JsonResponse:
    the_video = get_video_or_404(request, pk)
    if request.method == "POST":
        check_area(request.user, the_video.mission.area, ANALYST)
        try:
            body = _json_body(request)
            interval = labelling.add_interval(
                the_video, body.get("start"), body.get("end"), body.get("anomaly_class", ""), request.user
            )
        except ValidationError as exc:
            return _error(exc)
        payload = {"interval": labelling.interval_as_dict(interval), **labelling.label_as_dict(the_video)}
        return JsonResponse(payload, status=201)
    rows = [labelling.interval_as_dict(i) for i in the_video.intervals.select_related("created_by")]
    return JsonResponse({"intervals": rows, **labelling.label_as_dict(the_video)})


@require_POST
def interval_update(request: HttpRequest, pk: int) -> JsonResponse:
    """Edit an interval: {"start", "end", "anomaly_class"}, each optional (the stored value stays)."""
    interval = get_interval_or_404(request, pk, role=ANALYST)
    try:
        body = _json_body(request)
        labelling.update_interval(interval, body.get("start", interval.start), body.get("end", interval.end),
                                  body.get("anomaly_class", interval.anomaly_class))
    except ValidationError as exc:
        return _error(exc)
    return JsonResponse({"interval": labelling.interval_as_dict(interval)})


@require_POST
def interval_delete(request: HttpRequest, pk: int) -> JsonResponse:
    interval = get_interval_or_404(request, pk, role=ANALYST)
    labelling.delete_interval(interval)
    return JsonResponse({"deleted": pk})
