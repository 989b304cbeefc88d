"""The review page: its figure and data against the stored scores, saving verdicts, heatmap images, plotly.js."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from PIL import Image

from detection.score_store import load_video_scores
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.catalog.models import Video
from webapp.detectors.models import Event
from webapp.reports.figures import decode_typed_array
from webapp.reports.images import OPACITY_FLOOR, OPACITY_FULL, colorize, colour_scale_css
from webapp.reports.plotlyjs import PLOTLY_JS, plotly_js_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {role: make_user(role, role) for role in ("viewer", "analyst", "admin")} | {"outsider": make_user("nobody", None)}


@pytest.fixture
def seeded():
    return seed_scored_video(make_mission(), anomalies=((10.0, 14.0, "boat"), (40.0, 45.0, "person")),
                             kinds=("cae", "mil"), seed=4)


def page(client, user, video):
    client.force_login(user)
    response = client.get(reverse("video_review", args=[video.pk]))
    assert response.status_code == 200
    return response.content.decode()


def embedded(html: str, element_id: str):
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html, re.S).group(1))


def stored(run):
    return load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=True)


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_every_role_opens_the_review_page(client, people, seeded, role):
    html = page(client, people[role], seeded.video)
    assert 'id="timeline"' in html and reverse("plotly_js", args=[plotly_js_version()]) in html
    assert ('id="confirm-event"' in html) == (role != "viewer")
    assert "<script>" not in html  # the CSP forbids inline scripts: data travels in json elements only


def test_only_the_review_page_lets_plotly_compile_webgl_shaders(client, people, seeded):
    client.force_login(people["viewer"])
    review = client.get(reverse("video_review", args=[seeded.video.pk]))["Content-Security-Policy"]
    report = client.get(reverse("mission_report", args=[seeded.video.mission_id]))["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-eval';" in review  # and still no inline scripts
    assert "unsafe-eval" not in report


def test_odd_start_times_are_ignored(client, people, seeded):
    client.force_login(people["viewer"])
    for t in ("nan", "inf", "-3", "soon"):
        html = client.get(reverse("video_review", args=[seeded.video.pk]), {"t": t, "event": "x"}).content.decode()
        assert embedded(html, "review-focus") == {"event": None, "t": None}


def test_it_rejects_users_without_a_role(client, people, seeded):
    client.force_login(people["outsider"])
    assert client.get(reverse("video_review", args=[seeded.video.pk])).status_code == 403


def test_the_data_sent_once_is_exactly_the_stored_scores(client, people, seeded):
    data = embedded(page(client, people["viewer"], seeded.video), "review-data")
    assert [t["kind"] for t in data["tracks"]] == ["cae", "mil"]
    for track in data["tracks"]:
        scores = stored(seeded.runs[track["kind"]])
        assert np.array_equal(decode_typed_array(track["scores"]), scores.frame_scores)
        assert np.allclose(decode_typed_array(track["times"]), scores.times)
        assert track["threshold"] == pytest.approx(scores.threshold)
    events = Event.objects.filter(score_run__video=seeded.video)
    assert sorted(e["id"] for e in data["events"]) == sorted(events.values_list("pk", flat=True))


def test_the_timeline_draws_scores_thresholds_segments_labels_and_events(client, people, seeded):
    figure = embedded(page(client, people["viewer"], seeded.video), "timeline-figure")
    go.Figure(figure)  # a valid plotly figure
    frames = [t for t in figure["data"] if t.get("meta", {}).get("role") == "frames"]
    assert [t["type"] for t in frames] == ["scattergl", "scattergl"]
    cae = stored(seeded.runs["cae"])
    y = decode_typed_array(frames[0]["y"])
    assert y.max() == pytest.approx(cae.frame_scores.max()) and y.min() == pytest.approx(cae.frame_scores.min())
    mil = stored(seeded.runs["mil"])
    segments = next(t for t in figure["data"] if t["name"].endswith("segments"))
    assert np.allclose(decode_typed_array(segments["y"])[:-1], mil.segment_scores)
    shapes = figure["layout"]["shapes"]
    assert sorted(s["y0"] for s in shapes if s.get("name") == "threshold") == pytest.approx([0.3, 0.5])
    labels = [(s["x0"], s["x1"]) for s in shapes if s.get("name") == "label"]
    assert labels == [(10.0, 14.0), (40.0, 45.0)]
    assert sum(1 for s in shapes if s.get("name", "").startswith("event-")) == Event.objects.filter(
        score_run__video=seeded.video).count()
    assert shapes[-1]["name"] == "cursor"
    markers = [t for t in figure["data"] if t.get("meta", {}).get("role") == "events"]
    peaks = {e.pk: e.peak_score for e in Event.objects.filter(score_run__video=seeded.video)}
    assert {i: y for t in markers for i, y in zip(t["customdata"], t["y"])} == pytest.approx(peaks)


def test_a_two_hour_video_sends_little_and_keeps_its_peaks(client, people):
    seeded = seed_scored_video(make_mission(), seconds=7200, frame_size=4, heatmap_size=4,
                               anomalies=((3600.0, 3600.5, "boat"),), seed=5)
    client.force_login(people["viewer"])
    response = client.get(reverse("video_review", args=[seeded.video.pk]))
    assert len(response.content) < 2_000_000
    figure = embedded(response.content.decode(), "timeline-figure")
    y = decode_typed_array(figure["data"][0]["y"])
    assert len(y) <= 3000 and y.max() == pytest.approx(stored(seeded.runs["cae"]).frame_scores.max())


def test_analysts_confirm_an_event_with_a_note(people, seeded):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["analyst"])
    html = client.get(reverse("video_review", args=[seeded.video.pk])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    event = Event.objects.filter(score_run__video=seeded.video).first()
    url = reverse("event_review", args=[event.pk])
    body = json.dumps({"review": "confirmed", "note": "boat at the reef"})
    assert client.post(url, body, content_type="application/json").status_code == 403  # no CSRF token
    response = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["review"] == "confirmed"
    event.refresh_from_db()
    assert (event.review, event.note, event.reviewer, event.reviewed_at is not None) == (
        "confirmed", "boat at the reef", people["analyst"], True)


def test_viewers_cannot_review_and_bad_verdicts_are_refused(client, people, seeded):
    event = Event.objects.filter(score_run__video=seeded.video).first()
    url = reverse("event_review", args=[event.pk])
    client.force_login(people["viewer"])
    assert client.post(url, {"review": "confirmed"}).status_code == 403
    client.force_login(people["analyst"])
    response = client.post(url, json.dumps({"review": "fine"}), content_type="application/json")
    assert response.status_code == 400 and "unknown review" in response.json()["error"]
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, "[1, 2]", content_type="application/json").status_code == 400
    event.refresh_from_db()
    assert event.review == "unreviewed"


def test_heatmap_endpoint_returns_the_stored_heatmap_coloured(client, people, seeded):
    client.force_login(people["viewer"])
    run = seeded.runs["cae"]
    response = client.get(reverse("heatmap_png", args=[run.pk, 25]))
    image = np.asarray(Image.open(io.BytesIO(response.content)))
    heatmap = np.asarray(stored(run).heatmaps[25])
    assert image.shape == (*heatmap.shape, 4)
    assert (image[..., 3][heatmap > 200] > image[..., 3][heatmap < 30].max()).all()  # hot pixels are opaque
    assert client.get(reverse("heatmap_png", args=[run.pk, 10_000])).status_code == 404
    assert client.get(reverse("heatmap_png", args=[seeded.runs["mil"].pk, 0])).status_code == 404  # MIL has none


def test_heatmap_view_shows_input_heatmap_and_overlay_or_reconstruction(client, people, seeded):
    client.force_login(people["viewer"])
    run = seeded.runs["cae"]
    html = client.get(reverse("heatmap_view", args=[run.pk, 25])).content.decode()
    for panel in ("input", "heatmap", "overlay"):
        assert reverse("heatmap_view_image", args=[run.pk, 25, panel]) in html
        assert client.get(reverse("heatmap_view_image", args=[run.pk, 25, panel])).status_code == 200
    assert "reconstruction" not in re.findall(r'/frames/25/(\w+)\.png', html)
    frames = np.load(Path(settings.MEDIA_ROOT) / seeded.video.frames_path)
    # Scoring keeps the reconstructions of event peak frames only: frame 25's, not frame 24's.
    np.savez(Path(settings.MEDIA_ROOT) / run.media_dir / "reconstructions.npz", indices=np.array([25]),
             images=frames[25:26] // 2)
    html = client.get(reverse("heatmap_view", args=[run.pk, 25])).content.decode()
    assert set(re.findall(r'/frames/25/(\w+)\.png', html)) == {"input", "reconstruction", "heatmap", "overlay", "difference"}
    other = client.get(reverse("heatmap_view", args=[run.pk, 24])).content.decode()
    assert "reconstruction" not in re.findall(r'/frames/24/(\w+)\.png', other)
    Video.objects.filter(pk=seeded.video.pk).update(width=1920, height=1080)  # square samples of a 16:9 video
    image = client.get(reverse("heatmap_view_image", args=[run.pk, 25, "input"]))
    large = Image.open(io.BytesIO(image.content))
    assert large.size == (960, 540)  # shown at the video's aspect ratio, not squashed to the samples' square
    back = np.asarray(large.resize(frames.shape[2:0:-1], Image.BILINEAR)).astype(int)
    assert np.abs(back - frames[25]).mean() < 6  # the same picture
    assert client.get(reverse("heatmap_view", args=[run.pk, 9999])).status_code == 404


def test_event_thumbnails_keep_the_videos_aspect_ratio(client, people, seeded):
    Video.objects.filter(pk=seeded.video.pk).update(width=3840, height=2160)
    client.force_login(people["viewer"])
    event = Event.objects.filter(score_run__video=seeded.video).first()
    response = client.get(reverse("event_thumbnail", args=[event.pk]))
    assert Image.open(io.BytesIO(response.content)).size == (320, 180)


def test_the_heatmap_is_clear_where_the_error_is_low_and_its_scale_says_so():
    values = np.array([0, OPACITY_FLOOR, OPACITY_FLOOR + 1, 100, OPACITY_FULL, 255], dtype=np.uint8)
    alpha = colorize(values[None, :])[0, :, 3]
    assert alpha[0] == alpha[1] == 0 and 0 < alpha[2] < alpha[3] < 255 and alpha[4] == alpha[5] == 255
    scale = colour_scale_css()
    assert scale.startswith("linear-gradient(to right, rgba(0, 0, 4, 0.00) 0%") and "rgba(252, 255, 164, 1.00) 100%" in scale


def test_plotly_js_is_served_from_the_installed_package_and_cached(client):
    url = reverse("plotly_js", args=[plotly_js_version()])
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")  # public, like static files
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == PLOTLY_JS.read_bytes()
    assert "immutable" in response["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(reverse("plotly_js", args=["0.0.1"])).status_code == 404


def test_web_code_of_the_reports_never_imports_torch_or_scikit_learn():
    import subprocess
    import sys

    code = ("import django, sys; django.setup(); import webapp.reports.views, webapp.reports.review, "
            "webapp.reports.exports, webapp.reports.evaluation, webapp.detectors.views; "
            "print('torch' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "webapp.settings"})
    assert out.stdout.strip() == "False False", "metrics are computed by the evaluate job, not in web processes"


def test_a_video_without_scores_says_so(client, people):
    mission = make_mission()
    seeded = seed_scored_video(mission, kinds=())
    html = page(client, people["viewer"], seeded.video)
    assert "no finished score runs yet" in html
    assert embedded(html, "review-data")["tracks"] == []


def test_names_and_notes_cannot_inject_scripts(client, people, seeded):
    hostile = "</script><script>alert(1)</script>"
    seeded.video.original_name = hostile
    seeded.video.save()
    Event.objects.filter(score_run__video=seeded.video).update(note=hostile)
    html = page(client, people["viewer"], seeded.video)
    report = client.get(reverse("mission_report", args=[seeded.video.mission_id])).content.decode()
    standalone = client.get(reverse("mission_report_html", args=[seeded.video.mission_id])).content.decode()
    for text in (html, report, standalone):
        assert "<script>alert(1)" not in text
    assert embedded(html, "review-data")["events"][0]["note"] == hostile  # intact as data, inert as markup


def test_labels_are_named_and_coloured_by_class_and_the_legend_lists_the_classes(client, people, seeded):
    html = page(client, people["viewer"], seeded.video)
    shapes = embedded(html, "timeline-figure")["layout"]["shapes"]
    labels = {s["label"]["text"]: s["fillcolor"] for s in shapes if s.get("name") == "label"}
    assert set(labels) == {"boat", "person"} and labels["boat"] != labels["person"]
    legend = re.search(r'id="timeline-legend".*?</div>', html, re.S).group(0)
    assert 'data-class="boat"' in legend and 'data-class="person"' in legend
    assert "boat 0:10–0:14" in re.sub(r"\s+", " ", legend)  # each labelled interval, to seek to


def test_events_go_by_one_number_on_the_review_page_the_report_and_the_exports(client, people, seeded):
    event = Event.objects.filter(score_run__video=seeded.video).order_by("-start").first()
    html = page(client, people["viewer"], seeded.video)
    assert re.search(rf'<tr data-event="{event.pk}"[^>]*><td class="event-number">.*?#{event.pk}</td>', html)
    figure = embedded(html, "timeline-figure")
    markers = [t for t in figure["data"] if t.get("meta", {}).get("role") == "events"]
    assert f"#{event.pk}" in [text for t in markers for text in t["text"]]
    report = client.get(reverse("mission_report", args=[seeded.video.mission_id])).content.decode()
    assert f">#{event.pk}</a>" in report
    rows = client.get(reverse("mission_events_json", args=[seeded.video.mission_id])).json()
    assert event.pk in [row["id"] for row in (rows["events"] if isinstance(rows, dict) else rows)]


def test_the_saved_note_and_reviewer_come_back_with_the_page(client, people, seeded):
    event = Event.objects.filter(score_run__video=seeded.video).first()
    event.review, event.note, event.reviewer = "confirmed", "boat by the reef", people["analyst"]
    event.save()
    html = page(client, people["viewer"], seeded.video)
    sent = next(e for e in embedded(html, "review-data")["events"] if e["id"] == event.pk)
    assert (sent["note"], sent["reviewer"]) == ("boat by the reef", "analyst")
    assert '<td class="review-note">boat by the reef</td>' in html


def test_events_are_drawn_in_their_levels_colour_whatever_their_review(client, people, seeded):
    from webapp.detectors.levels import UNKNOWN_COLOUR, level_colour

    events = list(Event.objects.filter(score_run__video=seeded.video).order_by("id"))
    for event, level in zip(events, (1.2, 5.0)):
        event.level = level
        event.review = "dismissed" if level > 2 else "unreviewed"
        event.save()
    Event.objects.filter(pk__in=[e.pk for e in events[2:]]).update(level=None)  # an older detector's
    html = page(client, people["viewer"], seeded.video)
    figure = embedded(html, "timeline-figure")
    drawn = {i: c for t in figure["data"] if t.get("meta", {}).get("role") == "events"
             for i, c in zip(t["customdata"], t["marker"]["color"])}
    expected = {e.pk: level_colour(e.level) if e.pk in (events[0].pk, events[1].pk) else UNKNOWN_COLOUR for e in events}
    assert drawn == expected and level_colour(1.2) != level_colour(5.0)
    bands = {s["name"]: s["fillcolor"] for s in figure["layout"]["shapes"] if s.get("name", "").startswith("event-")}
    red, green, blue = (int(level_colour(5.0)[i:i + 2], 16) for i in (1, 3, 5))
    assert bands[f"event-{events[1].pk}"] == f"rgba({red}, {green}, {blue}, 0.12)"  # dismissed: faint, same colour
    assert f'title="raw score {events[1].peak_score:.4f}"' in html and ">5.0×</td>" in html
