"""Events out of the app: CSV and JSON rows, and a standalone HTML report that needs no server.

Text cells of every CSV written for users (here and the export zip's manifest.csv) go through
`spreadsheet_safe`: names and notes are user text, and a spreadsheet runs a cell that starts with `=`.

The standalone report inlines plotly.js (from the installed plotly package), the figures and the card
images as data URIs, so that it opens from an e-mail attachment or a USB stick.
"""

from __future__ import annotations

import base64
import csv
import io

from django.template.loader import render_to_string
from django.utils import timezone

from webapp.catalog.models import Video
from webapp.detectors.levels import scale_for_pages
from webapp.reports.comparison import reference_thumbnail
from webapp.reports.figures import figure_json
from webapp.reports.images import event_thumbnail_png, png_bytes
from webapp.reports.plotlyjs import plotly_js_text
from webapp.reports.reviews import review_counts
from webapp.reports.timeline import video_timeline

COLUMNS = ("id", "mission_id", "mission", "mission_date", "video_id", "video", "detector_id", "detector", "kind",
           "start", "end", "peak_time", "level", "peak_score", "threshold", "peak_x", "peak_y", "review",
           "anomaly_class", "reviewer", "reviewed_at", "note", "change", "reference_video_id", "reference_video",
           "reference_time", "latitude", "longitude")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
STANDALONE_MAX_EVENTS = 300  # each card's image is a few KB; this keeps the file an e-mailable size
STANDALONE_TIMELINE_POINTS = 800  # per detector and video: the outline of the scores, not every frame


def event_rows(events) -> list[dict]:
    """One plain dict per event, columns as COLUMNS (times in seconds from the start of the video; a CHANGE
    event's reference_time in seconds from the start of its reference flight; the change and reference columns
    are empty for the other kinds). `level` is the peak on the scale shared by every detector kind (1 = the
    detector's threshold; webapp.detectors.levels); `peak_score` is the detector's raw score and `threshold`
    the raw threshold its run used: compare raw scores only within one detector."""
    rows = []
    for event in events.select_related("score_run__video__mission", "score_run__detector", "reviewer",
                                       "reference_video"):
        run = event.score_run
        reference = event.reference_video
        rows.append({
            "id": event.pk, "mission_id": run.video.mission_id, "mission": run.video.mission.name,
            "mission_date": run.video.mission.date.isoformat(), "video_id": run.video_id,
            "video": run.video.original_name, "detector_id": run.detector_id, "detector": run.detector.name,
            "kind": run.detector.kind, "start": event.start, "end": event.end, "peak_time": event.peak_time,
            "level": event.level, "peak_score": event.peak_score, "threshold": run.threshold,
            "peak_x": event.peak_x, "peak_y": event.peak_y, "review": event.review,
            "anomaly_class": event.anomaly_class, "reviewer": event.reviewer.get_username() if event.reviewer else "",
            "reviewed_at": event.reviewed_at.isoformat() if event.reviewed_at else "", "note": event.note,
            "change": event.change, "reference_video_id": reference.pk if reference else None,
            "reference_video": reference.original_name if reference else "", "reference_time": event.reference_time,
            "latitude": event.latitude, "longitude": event.longitude,
        })
    return rows


def spreadsheet_safe(value):
    """A text cell that starts a formula gets a leading single quote, so a spreadsheet shows it as text.

    Only text: numbers (a score of -0.5) stay numbers. A reader of the file sees the quote; that is the price."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def events_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    # CRLF rows (RFC 4180): a cell holding a carriage return or a line feed is then always quoted.
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else spreadsheet_safe(row[k]) for k in COLUMNS})
    return buffer.getvalue()


def mission_json(mission) -> dict:
    return {"id": mission.pk, "name": mission.name, "area": mission.area.name, "date": mission.date.isoformat(),
            "drone": mission.drone, "operator": mission.operator}


def data_uri(png: bytes | None) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else ""


def reference_uri(event) -> str:
    """The aligned reference thumbnail of a CHANGE event as a data URI; empty for the other kinds."""
    if not event.score_run.detector.compares_flights:
        return ""
    thumbnail = reference_thumbnail(event)
    return data_uri(png_bytes(thumbnail)) if thumbnail is not None else ""


def standalone_report(mission, events, strip: dict) -> str:
    """The whole report as one HTML document: summary, the strip figure, and the top events as cards (a CHANGE
    event's card with the aligned reference frame beside today's, and which flight and instant it was)."""
    total = events.count()
    chosen = list(events.select_related("score_run__video", "score_run__detector", "reviewer",
                                        "reference_video__mission")[:STANDALONE_MAX_EVENTS])
    cards = [{"event": e, "image": data_uri(event_thumbnail_png(e)), "reference": reference_uri(e)} for e in chosen]
    counts = review_counts(events)  # of every event in the report, not only the cards shown
    return render_to_string("reports/standalone.html", {
        "mission": mission, "cards": cards, "total": total, "shown": len(chosen), "counts": counts,
        "strip_json": figure_json(strip), "timelines": video_timelines(mission), "plotly_js": plotly_js_text(),
        "generated": timezone.now(), "level_scale": scale_for_pages(),
    })


def video_timelines(mission) -> list[dict]:
    """Each scored video's score timeline, without the playback cursor, as figure JSON for the standalone file."""
    timelines = []
    for video in mission.videos.filter(status=Video.Status.READY).order_by("original_name", "pk"):
        timeline = video_timeline(video, max_points=STANDALONE_TIMELINE_POINTS)
        if not timeline["tracks"]:
            continue
        figure = timeline["figure"]
        figure["layout"]["shapes"] = [s for s in figure["layout"]["shapes"] if s.get("name") != "cursor"]
        for trace in figure["data"]:
            if trace["type"] == "scattergl":
                trace["type"] = "scatter"  # no WebGL needed in a file opened anywhere
        timelines.append({"video": video, "id": f"timeline-{video.pk}", "json": figure_json(figure)})
    return timelines
