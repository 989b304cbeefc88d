"""The mission anomaly report: ranked event cards, filters, bulk review, the per-video strip, and exports."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.roles import ANALYST
from webapp.catalog.access import area_page_roles
from webapp.core.media import stored_file_response
from webapp.core.params import BadParameter, id_param
from webapp.detectors.levels import scale_for_pages
from webapp.detectors.models import Detector, Event
from webapp.jobs import services
from webapp.jobs.models import Job
from webapp.reports import exports
from webapp.reports.access import mission_events, mission_for
from webapp.reports.figures import figure_json
from webapp.reports.reviews import ReviewError, review_counts, review_many
from webapp.reports.strip import strip_figure

CARDS_PER_PAGE = 48
EXPORT_JOBS_SHOWN = 3


class EventFilter:
    """The report's filters, read from the query string; bad values are reported, not guessed.

    Scores are filtered by level (webapp.detectors.levels), never by raw score: a CAE's scores run to about 60
    and a MIL's to 1, so one "min score" kept one kind or the other. Level 1 is each detector's threshold."""

    def __init__(self, params, mission):
        self.errors: list[str] = []
        self.detectors = Detector.objects.filter(score_runs__video__mission=mission).distinct().order_by("kind", "pk")
        self.detector = self._id(params, "detector")
        self.review = params.get("review", "")
        if self.review and self.review not in Event.Review.values:
            self.errors.append(f"unknown review state {self.review!r}")
            self.review = ""
        self.min_level = self._float(params.get("min_level", ""), "minimum level")
        if params.get("min_score"):
            self.errors.append("there is no minimum score any more: scores of different detectors do not compare; "
                               "use the minimum level (1 = the detector's threshold)")

    @classmethod
    def strict(cls, params, mission) -> EventFilter:
        """The filters of a download, where there is no page to show errors on: a bad value is a 400."""
        filters = cls(params, mission)
        if filters.errors:
            raise BadParameter("; ".join(filters.errors))
        return filters

    def _id(self, params, name: str) -> int | None:
        try:
            return id_param(params, name)
        except BadParameter as exc:
            self.errors.append(str(exc))
            return None

    def _float(self, text: str, name: str) -> float | None:
        try:
            value = float(text) if text else None
        except ValueError:
            value = math.nan
        if value is not None and not math.isfinite(value):
            self.errors.append(f"the {name} must be a number, not {text!r}")
            return None
        return value

    def apply(self, events):
        events = self._by_detector_and_review(events)
        if self.min_level is not None:
            events = events.filter(level__gte=self.min_level)
        return events

    def _by_detector_and_review(self, events):
        if self.detector is not None:
            events = events.filter(score_run__detector_id=self.detector)
        if self.review:
            events = events.filter(review=self.review)
        return events

    def unlevelled(self, events) -> int:
        """How many events a minimum level leaves out only for having no level (a run without a threshold)."""
        if self.min_level is None:
            return 0
        return self._by_detector_and_review(events).filter(level__isnull=True).count()

    def query(self) -> str:
        values = {"detector": self.detector, "review": self.review, "min_level": self.min_level}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@require_GET
def mission_report(request, pk: int):
    mission = mission_for(request, pk)
    filters = EventFilter(request.GET, mission)
    events = filters.apply(mission_events(mission))
    page = Paginator(events, CARDS_PER_PAGE).get_page(request.GET.get("page"))
    roles = area_page_roles(request.user, mission.area)
    context = {
        **roles, "mission": mission, "filters": filters, "page": page, "total": page.paginator.count,
        "can_review": roles["can_edit"], "reviews": Event.Review.choices,
        "counts": review_counts(mission_events(mission)),
        "strip_json": figure_json(strip_figure(mission, events.select_related(None).select_related("score_run__detector"))),
        "query": filters.query(), "unlevelled": filters.unlevelled(mission_events(mission)),
        "level_scale": scale_for_pages(),
        "export": services.latest_output(Job.Kind.EXPORT, mission=mission),
        "export_jobs": Job.objects.filter(kind=Job.Kind.EXPORT, mission=mission)[:EXPORT_JOBS_SHOWN],
        "export_filter": f"mission={mission.pk}&kind={Job.Kind.EXPORT}&limit={EXPORT_JOBS_SHOWN}",
    }
    # Bad filter values are shown on the page above the unfiltered events, with a 400 status.
    return render(request, "reports/mission_report.html", context, status=400 if filters.errors else 200)


@require_POST
def mission_report_review(request, pk: int):
    mission = mission_for(request, pk, role=ANALYST)
    ids = [int(i) for i in request.POST.getlist("event") if i.isdigit()]
    verdict = request.POST.get("review", "")
    back = f"{reverse('mission_report', args=[pk])}?{request.POST.get('query', '')}"
    if not ids:
        messages.error(request, "Select at least one event to review.")
        return redirect(back)
    try:
        changed = review_many(mission_events(mission).filter(pk__in=ids), verdict, request.user)
    except ReviewError as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(request, f"{changed} event{'s' if changed != 1 else ''} marked {verdict}.")
    return redirect(back)


@require_GET
def mission_events_csv(request, pk: int):
    mission = mission_for(request, pk)
    filters = EventFilter.strict(request.GET, mission)
    response = HttpResponse(exports.events_csv(exports.event_rows(filters.apply(mission_events(mission)))),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mission-{mission.pk}-events.csv"'
    return response


@require_GET
def mission_events_json(request, pk: int):
    mission = mission_for(request, pk)
    filters = EventFilter.strict(request.GET, mission)
    rows = exports.event_rows(filters.apply(mission_events(mission)))
    response = JsonResponse({"mission": exports.mission_json(mission), "events": rows})
    response["Content-Disposition"] = f'attachment; filename="mission-{mission.pk}-events.json"'
    return response


@require_GET
def mission_report_html(request, pk: int):
    mission = mission_for(request, pk)
    filters = EventFilter.strict(request.GET, mission)
    events = filters.apply(mission_events(mission))
    html = exports.standalone_report(mission, events, strip_figure(mission, events))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mission-{mission.pk}-report.html"'
    return response


@require_POST
def mission_export(request, pk: int):
    """Build the mission's export zip in the background (events CSV and JSON, standalone report, manifest)."""
    mission = mission_for(request, pk, role=Job.role_to_start(Job.Kind.EXPORT))
    job = services.start_export(mission, user=request.user)
    messages.success(request, f"Export job #{job.pk} queued; its download link appears here when it is done.")
    return redirect("mission_report", pk=mission.pk)


@require_GET
def mission_export_download(request, pk: int, job: int):
    mission = mission_for(request, pk)
    the_job = get_object_or_404(Job, pk=job, mission=mission, kind=Job.Kind.EXPORT, state=Job.State.SUCCEEDED)
    relative = str(the_job.result.get("zip", ""))
    path = Path(settings.MEDIA_ROOT) / relative
    if not relative.startswith(f"exports/{the_job.pk}/") or not path.is_file():
        raise Http404("the export's zip is gone; export the mission again")
    return stored_file_response(request, path, download_name=f"mission-{mission.pk}-export.zip")
