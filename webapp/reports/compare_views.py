"""The compare view of a CHANGE event: today's frame beside the reference flight's frame at the same instant,
aligned into today's view, as side by side, a swipe or a blink, with the change heatmap over both."""

from __future__ import annotations

import numpy as np
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from webapp.catalog.access import area_page_roles
from webapp.reports import comparison, images
from webapp.reports.access import event_for
from webapp.reports.review import png_response
from webapp.reports.strip import review_url
from webapp.reports.timeline import load_run

PANELS = ("today", "reference")


@require_GET
def event_compare(request, pk: int):
    event = event_for(request, pk)
    run, video = event.score_run, event.score_run.video
    scores = load_run(run)  # its times give the peak's frame: scores.npz is read once
    index = images.nearest_index(scores.times, event.peak_time) if scores is not None and len(scores.times) else None
    status = scores.extras.get("frame_status") if scores is not None else None
    duration = video.duration or (float(scores.times[-1]) if scores is not None and len(scores.times) else 0.0)
    context = {
        **area_page_roles(request.user, video.mission.area),
        "event": event, "run": run, "video": video, "mission": video.mission, "index": index,
        "has_pair": index is not None and comparison.stored_pair(event, index) is not None,
        "heatmap_url": reverse("heatmap_png", args=[run.pk, index]) if run.has_heatmaps and index is not None else "",
        "review_url": review_url(video.pk, event),
        "spans": comparison.on_strip(comparison.status_spans(scores.times, status), duration)
        if status is not None else [],
        "summary": comparison.status_summary(status) if status is not None else {},
        "peak_left": comparison.percent(event.peak_time, duration),
    }
    return render(request, "reports/compare.html", context)


@require_GET
def event_compare_image(request, pk: int, panel: str):
    """Today's frame or the aligned reference frame of the event's peak, as scoring kept them."""
    event = event_for(request, pk)
    if panel not in PANELS:
        raise Http404(f"no {panel} image")
    pair = comparison.stored_pair(event)
    if pair is None:
        raise Http404("this event's score run kept no comparison images")
    return png_response(np.asarray(pair[PANELS.index(panel)]))


@require_GET
def event_reference_thumbnail(request, pk: int):
    """The aligned reference frame of a CHANGE event's peak, small, for its report card."""
    event = event_for(request, pk)
    thumbnail = comparison.reference_thumbnail(event)
    if thumbnail is None:
        raise Http404("this event's score run kept no comparison images")
    return png_response(thumbnail)
