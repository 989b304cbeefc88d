"""The compare view of a CHANGE event and the report's CHANGE cards, over what a CHANGE score run stores: the
peak's pair of images (`extras["comparisons"]`) and each frame's alignment status (`extras["frame_status"]`)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from detection.score_store import save_video_scores
from detection.types import DetectedEvent, VideoScores
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.accounts.models import Team
from webapp.catalog.models import Area, Mission, Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.reports.comparison import status_spans

pytestmark = pytest.mark.django_db
TODAY, REFERENCE = (200, 40, 40), (40, 40, 200)


@pytest.fixture
def people():
    return {role: make_user(role, role) for role in ("viewer", "analyst")} | {"outsider": make_user("nobody", None)}


def change_run(*, with_pair: bool = True) -> tuple[Event, Video]:
    """A CHANGE run over a 60 s flight: frames 0-9 had no reference, 30-31 failed to align, an event at 20-26 s."""
    seeded = seed_scored_video(make_mission(), kinds=())
    video = seeded.video
    reference = Video.objects.create(mission=Mission.objects.create(area=video.mission.area, name="Calm day",
                                                                    date=video.mission.date),
                                     original_name="calm.mp4", status=Video.Status.READY, label="normal")
    detector = Detector.objects.create(area=video.mission.area, kind=Detector.Kind.CHANGE, name="Change v1",
                                       status=Detector.Status.READY, threshold=0.5, trained=timezone.now())
    times = np.arange(120) / 2.0
    status = np.zeros(120, dtype=np.uint8)
    status[:10], status[30:32] = 1, 2
    peak = 46  # 23 s
    event = DetectedEvent(20.0, 26.0, float(times[peak]), 0.9, 0.3, 0.4, change="new", reference_id=str(reference.pk),
                          reference_time=24.5)
    extras = {"frame_status": status, "reference_ids": [str(reference.pk)],
              "reference_index": np.where(status == 1, -1, 0), "reference_times": times + 1.5}
    if with_pair:
        extras["comparisons"] = (np.array([peak]), np.full((1, 48, 64, 3), TODAY, np.uint8),
                                 np.full((1, 48, 64, 3), REFERENCE, np.uint8))
    scores = VideoScores(times=times, frame_scores=np.where((times >= 20) & (times <= 26), 0.9, 0.1).astype(np.float32),
                         threshold=0.5, events=(event,), heatmaps=np.zeros((120, 8, 8), np.uint8),
                         heatmap_scale=1 / 255, extras=extras)
    run = ScoreRun.objects.create(detector=detector, video=video, status=ScoreRun.Status.READY, threshold=0.5,
                                  max_score=0.9, frame_count=120, has_heatmaps=True, finished=timezone.now())
    save_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, scores)
    row = Event.objects.create(score_run=run, start=20.0, end=26.0, peak_time=23.0, peak_score=0.9, change="new",
                               reference_video=reference, reference_time=24.5)
    return row, reference


def colour_of(response) -> tuple[int, int, int]:
    image = np.asarray(Image.open(io.BytesIO(b"".join(response.streaming_content if response.streaming
                                                      else [response.content]))).convert("RGB"))
    return tuple(int(c) for c in image[image.shape[0] // 2, image.shape[1] // 2])


def test_the_compare_view_shows_today_beside_the_aligned_reference(client, people):
    event, reference = change_run()
    client.force_login(people["viewer"])
    page = client.get(reverse("event_compare", args=[event.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert reference.original_name in html and "0:24" in html, "which reference flight, and when in it"
    assert "New" in html and 'data-mode="swipe"' in html and 'data-mode="blink"' in html
    assert reverse("heatmap_png", args=[event.score_run_id, 46]) in html, "the change heatmap over both"
    today = client.get(reverse("event_compare_image", args=[event.pk, "today"]))
    ref = client.get(reverse("event_compare_image", args=[event.pk, "reference"]))
    assert colour_of(today) == TODAY and colour_of(ref) == REFERENCE


def test_the_compare_view_shows_where_the_flight_was_not_compared(client, people):
    event, _ = change_run()
    client.force_login(people["viewer"])
    html = client.get(reverse("event_compare", args=[event.pk])).content.decode()
    assert html.count('data-status="no reference"') == 1 and html.count('data-status="alignment failed"') == 1
    assert "0:00–0:05: no reference" in html and "0:15–0:16: alignment failed" in html
    assert "no reference (10)" in html and "alignment failed (2)" in html


def test_status_spans_are_the_runs_of_frames_not_compared():
    times = np.arange(8) / 2.0
    spans = status_spans(times, np.array([1, 1, 0, 0, 2, 0, 1, 1]))
    assert [(s["start"], s["end"], s["name"]) for s in spans] == [
        (0.0, 1.0, "no reference"), (2.0, 2.5, "alignment failed"), (3.0, 4.0, "no reference")]


def test_an_event_without_stored_images_says_so(client, people):
    event, _ = change_run(with_pair=False)
    client.force_login(people["viewer"])
    assert 'id="no-comparison"' in client.get(reverse("event_compare", args=[event.pk])).content.decode()
    assert client.get(reverse("event_compare_image", args=[event.pk, "today"])).status_code == 404
    assert client.get(reverse("event_reference_thumbnail", args=[event.pk])).status_code == 404


def test_other_teams_never_see_a_comparison(client, people):
    event, _ = change_run()
    Area.objects.filter(pk=event.score_run.video.mission.area_id).update(team=Team.objects.create(name="Elsewhere"))
    client.force_login(people["viewer"])
    for url in (reverse("event_compare", args=[event.pk]), reverse("event_compare_image", args=[event.pk, "today"]),
                reverse("event_reference_thumbnail", args=[event.pk])):
        assert client.get(url).status_code == 404


def test_a_change_card_shows_the_reference_thumbnail_beside_todays(client, people):
    event, reference = change_run()
    client.force_login(people["analyst"])
    html = client.get(reverse("mission_report", args=[event.score_run.video.mission_id])).content.decode()
    assert reverse("event_reference_thumbnail", args=[event.pk]) in html
    assert reverse("event_thumbnail", args=[event.pk]) in html
    assert f"vs {reference.mission.name} / {reference.original_name}" in html
    assert reverse("event_compare", args=[event.pk]) in html
    assert colour_of(client.get(reverse("event_reference_thumbnail", args=[event.pk]))) == REFERENCE


def test_the_review_page_links_change_events_to_their_compare_view_and_bands_frames_not_compared(client, people):
    event, _ = change_run()
    client.force_login(people["viewer"])
    html = client.get(reverse("video_review", args=[event.score_run.video_id])).content.decode()
    assert reverse("event_compare", args=[event.pk]) in html
    assert 'id="status-legend"' in html and "no-reference" in html and "alignment-failed" in html


def test_scoring_events_keep_a_missing_reference_as_none():
    from workers.scoring import reference_videos

    found = [DetectedEvent(0, 1, 0.5, 1.0, reference_id="999999"), DetectedEvent(0, 1, 0.5, 1.0)]
    assert reference_videos(found) == {}


def test_exports_name_the_change_and_its_reference(client, people):
    event, reference = change_run()
    Video.objects.filter(pk=reference.pk).update(original_name="=cmd|calm.mp4")
    mission = event.score_run.video.mission_id
    client.force_login(people["viewer"])
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("mission_events_csv", args=[mission])).content.decode())))
    row = next(r for r in rows if int(r["id"]) == event.pk)
    assert (row["change"], row["reference_video_id"], row["reference_time"]) == ("new", str(reference.pk), "24.5")
    assert row["reference_video"] == "'=cmd|calm.mp4", "a reference name that starts a formula is quoted"
    body = json.loads(client.get(reverse("mission_events_json", args=[mission])).content)
    found = next(e for e in body["events"] if e["id"] == event.pk)
    assert (found["change"], found["reference_video_id"], found["reference_time"]) == ("new", reference.pk, 24.5)
    assert found["reference_video"] == "=cmd|calm.mp4", "JSON keeps the name as it is"


def test_the_standalone_report_shows_the_reference_beside_todays_frame(client, people):
    event, reference = change_run()
    client.force_login(people["viewer"])
    html = client.get(reverse("mission_report_html", args=[event.score_run.video.mission_id])).content.decode()
    card = html.split(f'id="event-{event.pk}"', 1)[1].split("</li>", 1)[0]
    images = [base64.b64decode(uri) for uri in
              re.findall(r'src="data:image/png;base64,([^"]+)"', card)]
    assert len(images) == 2, "today's frame and the reference's"
    reference_image = np.asarray(Image.open(io.BytesIO(images[1])).convert("RGB"))
    assert tuple(int(c) for c in reference_image[10, 10]) == REFERENCE
    assert "New" in card and f"vs {reference.mission.name} / {reference.original_name}" in card and "0:24" in card


def test_the_api_lists_the_change_and_its_reference(client, people):
    event, reference = change_run()
    client.force_login(people["viewer"])
    found = client.get("/api/events/", {"video": event.score_run.video_id}).json()["results"]
    row = next(e for e in found if e["id"] == event.pk)
    assert (row["change"], row["reference_video"], row["reference_time"]) == ("new", reference.pk, 24.5)
