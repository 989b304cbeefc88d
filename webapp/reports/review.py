"""The review page of one video, saving verdicts from it, and the images it and the cards show."""

from __future__ import annotations

import json
import math

import numpy as np
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from detection.score_store import load_reconstruction
from webapp.catalog.access import area_page_roles
from webapp.core.middleware import CSP
from webapp.core.params import BadParameter, id_param, parse_json_body
from webapp.detectors import levels
from webapp.reports import images
from webapp.reports.access import event_for, event_to_review, score_run_for, video_for
from webapp.reports.figures import figure_json
from webapp.reports.reviews import ReviewError, event_json, review_event
from webapp.reports.timeline import review_payload

IMAGE_CACHE = "private, max-age=3600"
# plotly.js draws scattergl with regl, which compiles shader code with `new Function`: without 'unsafe-eval'
# it shows "WebGL is not supported". Only this page allows it; scripts still load from 'self' only, none
# inline, and the page's script falls back to SVG traces where eval or WebGL is unavailable.
REVIEW_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'", 1)


def proxy_url(video) -> str:
    """The Range-capable media view's URL for the proxy (the web app's), or "" when there is none."""
    if not video.has_proxy:
        return ""
    try:
        return reverse("video_media", args=[video.pk, "proxy.mp4"])
    except NoReverseMatch:
        return ""


@require_GET
def video_review(request, pk: int):
    video = video_for(request, pk)
    payload = review_payload(video)
    figure = payload.pop("figure")
    # json.dumps + str.replace in json_data: a few ms for the ~400 KB of a 2-hour video (json_script's
    # per-character translate costs tens).
    roles = area_page_roles(request.user, video.mission.area)
    context = {**roles, "video": video, "mission": video.mission, "payload": payload, "payload_json": json.dumps(payload),
               "figure_json": figure_json(figure),
               "proxy_url": proxy_url(video), "can_review": roles["can_edit"],
               "focus": _focus(request), "heatmap_scale_css": images.colour_scale_css(), "level_legend": level_legend()}
    response = render(request, "reports/video_review.html", context)
    response["Content-Security-Policy"] = REVIEW_CSP
    return response


def level_legend() -> list[dict]:
    """Swatches of the fixed level colour scale for the timeline's legend: its colour, name and range."""
    steps = levels.scale_for_pages()
    legend = []
    for step, after in zip(steps, [*steps[1:], None]):
        low, high = step["from"], after["from"] if after else None
        span = (f"under {levels.level_text(high)}" if low is None else
                f"{levels.level_text(low)}+" if high is None else f"{levels.level_text(low)}–{levels.level_text(high)}")
        legend.append({"colour": step["colour"], "text": f"{step['name']} ({span})"})
    return legend + [{"colour": levels.UNKNOWN_COLOUR, "text": "no level (older detector)"}]


def _focus(request) -> dict:
    """Where the page starts: ?event= selects an event, ?t= a time (seconds); anything else is ignored."""
    focus = {"event": None, "t": None}
    try:
        focus["event"] = id_param(request.GET, "event")
    except BadParameter:
        pass
    try:
        t = float(request.GET.get("t", ""))
    except ValueError:
        return focus
    focus["t"] = t if math.isfinite(t) and t >= 0 else None  # NaN would not survive JSON.parse
    return focus


@require_POST
def event_review(request, pk: int):
    """Save one verdict from the review page's or the inbox's fetch(): JSON {"review", "note"?, "anomaly_class"?}
    or a form post. The inbox's undo sends the event's previous review, note and class here too."""
    event = event_to_review(request, pk)
    if request.content_type == "application/json":
        try:
            body = parse_json_body(request.body or b"{}")
        except BadParameter as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    else:
        body = request.POST
    if not hasattr(body, "get"):
        return JsonResponse({"error": "send an object: {\"review\": ..., \"note\": ...}"}, status=400)
    note, anomaly_class = body.get("note"), body.get("anomaly_class")
    if note is not None and not isinstance(note, str):
        return JsonResponse({"error": "the note must be text"}, status=400)
    try:
        review_event(event, str(body.get("review", "")), request.user, note=note, anomaly_class=anomaly_class)
    except ReviewError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(event_json(event))


def png_response(image: np.ndarray) -> HttpResponse:
    response = HttpResponse(images.png_bytes(image), content_type="image/png")
    response["Cache-Control"] = IMAGE_CACHE
    return response


@require_GET
def heatmap_png(request, pk: int, index: int):
    """One frame's heatmap of a score run, coloured, transparent where the error is low (for the overlay canvas)."""
    run = score_run_for(request, pk)
    stored = images.load_heatmaps(run)
    if stored is None:
        raise Http404("this score run stored no heatmaps")
    if not 0 <= index < len(stored[1]):
        raise Http404(f"frame {index} is outside the run's {len(stored[1])} frames")
    return png_response(images.colorize(np.asarray(stored[1][index])))


@require_GET
def event_thumbnail(request, pk: int):
    event = event_for(request, pk)
    png = images.event_thumbnail_png(event)
    if png is None:
        raise Http404("the video has no sampled frames")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = IMAGE_CACHE
    return response


@require_GET
def event_heatmap(request, pk: int):
    """The heatmap view at an event's peak frame (a card links here; the index is the run's nearest frame)."""
    event = event_for(request, pk)
    with np.load(images.media_path(event.score_run.media_dir) / "scores.npz") as data:
        times = data["times"]
    if len(times) == 0:
        raise Http404("the score run has no frames")
    return redirect("heatmap_view", event.score_run_id, images.nearest_index(times, event.peak_time))


PANELS = ("input", "reconstruction", "heatmap", "overlay", "difference")
PANEL_NAMES = {"input": "input frame", "reconstruction": "reconstruction", "heatmap": "heatmap (pixel error)",
               "overlay": "heatmap over the frame", "difference": "pixel difference"}
HEATMAP_VIEW_WIDTH = 960  # the large view's image; the page zooms it further in the browser


def heatmap_panels(run, index: int) -> dict[str, np.ndarray]:
    """The heatmap view's images of one frame: input, heatmap and overlay, plus the reconstruction and the pixel
    difference where scoring kept the reconstruction (event peaks; making one here would need torch)."""
    frames, times = images.load_frames(run.video), images.load_timestamps(run.video)
    stored = images.load_heatmaps(run)
    count = len(stored[0]) if stored is not None else (len(times) if times is not None else 0)
    if frames is None or times is None or not 0 <= index < count:
        raise Http404(f"frame {index} is not among this run's {count} frames")
    t = float(stored[0][index]) if stored is not None else float(times[index])
    frame_index = images.nearest_index(times, t)
    frame = np.asarray(frames[frame_index])
    panels = {"input": frame}
    reconstruction = load_reconstruction(images.media_path(run.media_dir), frame_index)
    if reconstruction is not None:
        panels["reconstruction"] = images.resize(reconstruction, frame.shape[:2])
        panels["difference"] = images.COLORMAP[images.difference(frame, panels["reconstruction"])]
    if stored is not None:
        heatmap = np.asarray(stored[1][index])
        panels["heatmap"] = images.resize(images.colorize(heatmap, alpha=False), frame.shape[:2])
        panels["overlay"] = images.overlay(frame, heatmap)
    return panels


@require_GET
def heatmap_view(request, pk: int, index: int):
    run = score_run_for(request, pk)
    panels = heatmap_panels(run, index)
    count = run.frame_count or index + 1
    times = images.load_timestamps(run.video)
    shown = [p for p in PANELS if p in panels]
    context = {"run": run, "video": run.video, "index": index,
               "panels": [{"name": p, "text": PANEL_NAMES[p]} for p in shown],
               "first": "overlay" if "overlay" in shown else shown[0], "has_reconstruction": "reconstruction" in shown,
               "previous": index - 1 if index > 0 else None, "next": index + 1 if index + 1 < count else None,
               "time": float(times[min(index, len(times) - 1)]) if times is not None and len(times) else None,
               "scale_css": images.colour_scale_css()}
    return render(request, "reports/heatmap_view.html", context)


@require_GET
def heatmap_view_image(request, pk: int, index: int, panel: str):
    run = score_run_for(request, pk)
    panels = heatmap_panels(run, index)
    if panel not in panels:
        raise Http404(f"no {panel} image for this run")
    return png_response(images.at_video_aspect(panels[panel], run.video, HEATMAP_VIEW_WIDTH))
