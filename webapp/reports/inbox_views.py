"""The triage inbox page: the queue of events across missions, reviewed from the keyboard (static/reports/inbox.js)
through the review page's own endpoint (`event_review`)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from webapp.accounts.roles import VIEWER, require_role
from webapp.detectors import levels
from webapp.reports import inbox
from webapp.reports.reviews import review_counts
from webapp.reports.strip import review_url
from webapp.reports.templatetags.report_tags import clock


@require_GET
def inbox_page(request):
    require_role(request.user, VIEWER)
    filters = inbox.InboxFilter(request.GET, request.user)
    events = inbox.visible_events(request.user)
    page = Paginator(filters.apply(events), inbox.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [inbox_row(request.user, event) for event in page.object_list]
    context = {
        "filters": filters, "choices": filters.choices(), "page": page, "rows": rows,
        "counts": review_counts(filters.scope(events)), "query": filters.query(),
        "state_links": {state: filters.query(state=state) for state in ("unreviewed", "confirmed", "dismissed", "all")},
        "may_review": any(row["can_review"] for row in rows),
    }
    context["page_json"] = {"rows": [row["data"] for row in rows], "state": filters.state,
                            "counts": context["counts"], "more_pages": page.has_next()}
    return render(request, "reports/inbox.html", context, status=400 if filters.errors else 200)


def inbox_row(user, event) -> dict:
    """What the page and its script know of one event: the row's text, its images and where its verdict goes."""
    run, video = event.score_run, event.score_run.video
    reference, can_review = event.reference_video, inbox.may_review(user, event)
    compares = run.detector.compares_flights
    return {
        "event": event, "run": run, "video": video, "mission": video.mission, "can_review": can_review,
        "compares": compares,
        "data": {
            "id": event.pk, "review": event.review, "note": event.note, "anomaly_class": event.anomaly_class,
            "can_review": can_review,
            "review_url": reverse("event_review", args=[event.pk]), "open_url": review_url(video.pk, event),
            "thumbnail": reverse("event_thumbnail", args=[event.pk]),
            "reference": reverse("event_reference_thumbnail", args=[event.pk]) if compares else "",
            "compare": reverse("event_compare", args=[event.pk]) if compares else "",
            "title": f"{video.mission.name} · {video.original_name}",
            "facts": [video.mission.area.name, date_format(video.mission.date), f"{run.detector.name} ({run.detector.kind})",
                      f"{clock(event.start)}–{clock(event.end)}, peak {clock(event.peak_time)}"],
            "level": levels.level_text(event.level), "colour": levels.level_colour(event.level), "score": f"{event.peak_score:.3f}",
            "change": event.get_change_display() if event.change else "",
            "reference_line": f"{reference.mission.name} / {reference.original_name} ({reference.mission.date})"
            if reference else "",
        },
    }

