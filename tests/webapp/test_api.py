"""The REST API round trip with a per-user token: missions, tus upload, labels, jobs, scores and events."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from detection.score_store import save_video_scores
from detection.types import DetectedEvent, VideoScores
from tests.support.videos import make_video
from tests.webapp.catalog_actors import login
from webapp.catalog.models import Area, LabelInterval, Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db
TUS = {"Tus-Resumable": "1.0.0"}


def token_client(user) -> Client:
    """A client that authenticates only with the user's token, made through the token page."""
    login(user).post(reverse("api_token"), {"action": "create"})
    return Client(headers={"Authorization": f"Token {Token.objects.get(user=user).key}"})


def test_the_token_page_creates_replaces_and_revokes_a_token(viewer):
    client = login(viewer)
    assert "You have no API token." in client.get(reverse("api_token")).content.decode()
    client.post(reverse("api_token"), {"action": "create"})
    first = Token.objects.get(user=viewer).key
    assert first in client.get(reverse("api_token")).content.decode()
    client.post(reverse("api_token"), {"action": "create"})
    assert Token.objects.get(user=viewer).key != first
    client.post(reverse("api_token"), {"action": "revoke"})
    assert not Token.objects.filter(user=viewer).exists()


def test_the_api_round_trip_with_a_token(analyst, area, tmp_path):
    api = token_client(analyst)
    created = api.post("/api/missions/", {"area": area.pk, "name": "Flight 7", "date": "2026-11-28"},
                       content_type="application/json")
    assert created.status_code == 201, created.content
    mission_id = created.json()["id"]

    data = make_video(tmp_path / "flight7.mp4", seconds=2).read_bytes()
    metadata = "filename " + base64.b64encode(b"flight7.mp4").decode()
    start = api.post(f"/api/missions/{mission_id}/uploads/",
                     headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata})
    assert start.status_code == 201
    location, offset, response = start["Location"], 0, None
    assert location.startswith("/api/uploads/")
    while offset < len(data):
        response = api.patch(location, data=data[offset : offset + 3000], content_type="application/offset+octet-stream",
                             headers={**TUS, "Upload-Offset": str(offset)})
        assert response.status_code == 204, response.content
        offset = int(api.head(location, headers=TUS)["Upload-Offset"])
    video_id = int(response["Skerry-Video-Id"])
    video = api.get(f"/api/videos/{video_id}/").json()
    assert video["sha256"] == hashlib.sha256(data).hexdigest() and video["mission"] == mission_id
    assert Job.objects.filter(kind="ingest", video_id=video_id).exists()

    labelled = api.patch(f"/api/videos/{video_id}/", {"label": "normal"}, content_type="application/json")
    assert labelled.status_code == 200 and labelled.json()["labelled_by"] == "anna"
    interval = api.post(f"/api/videos/{video_id}/intervals/", {"start": 0.5, "end": 1.5, "anomaly_class": "boat"},
                        content_type="application/json")
    assert interval.status_code == 201, interval.content
    assert LabelInterval.objects.get(video_id=video_id).anomaly_class == "boat"
    assert Video.objects.get(pk=video_id).label == "anomalous"
    reversed_interval = api.post(f"/api/videos/{video_id}/intervals/", {"start": 1.5, "end": 0.5},
                                 content_type="application/json")
    assert reversed_interval.status_code == 400
    assert "end 0.50s must come after start 1.50s" in str(reversed_interval.json())

    score = api.post(f"/api/missions/{mission_id}/score/")
    assert score.status_code == 409 and "No ready, active detector" in score.json()["detail"]
    Video.objects.filter(pk=video_id).update(status="ready")
    Detector.objects.create(area=area, kind="cae", name="c", status="ready", is_active=True)
    score = api.post(f"/api/missions/{mission_id}/score/")
    assert score.status_code == 202 and score.json()["kind"] == "score"
    assert api.get(f"/api/jobs/{score.json()['id']}/").json()["state"] == "queued"


def test_it_reads_scores_and_events(viewer, mission):
    video = Video.objects.create(mission=mission, original_name="v.mp4", status="ready")
    detector = Detector.objects.create(area=mission.area, kind="cae", name="c", status="ready")
    run = ScoreRun.objects.create(detector=detector, video=video, status="ready", threshold=0.5)
    event = DetectedEvent(start=1.0, end=2.0, peak_time=1.5, peak_score=0.9)
    save_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, VideoScores(
        times=np.array([0.0, 0.5, 1.0, 1.5]), frame_scores=np.array([0.1, 0.2, 0.7, 0.9], dtype=np.float32),
        threshold=0.5, events=(event,),
    ))
    Event.objects.create(score_run=run, start=1.0, end=2.0, peak_time=1.5, peak_score=0.9)
    api = token_client(viewer)
    scores = api.get(f"/api/videos/{video.pk}/scores/").json()
    assert scores[0]["times"] == [0.0, 0.5, 1.0, 1.5]
    assert scores[0]["frame_scores"] == pytest.approx([0.1, 0.2, 0.7, 0.9])
    assert scores[0]["threshold"] == 0.5 and scores[0]["segment_scores"] is None
    events = api.get(f"/api/events/?video={video.pk}").json()["results"]
    assert [(e["start"], e["peak_score"], e["review"]) for e in events] == [(1.0, 0.9, "unreviewed")]


def test_a_viewer_token_reads_but_cannot_write(viewer, mission):
    api = token_client(viewer)
    assert api.get("/api/missions/").json()["results"][0]["name"] == "Dawn patrol"
    refused = api.post("/api/missions/", {"area": mission.area.pk, "name": "X", "date": "2026-01-01"},
                       content_type="application/json")
    assert refused.status_code == 403
    assert api.post(f"/api/missions/{mission.pk}/uploads/", headers={**TUS, "Upload-Length": "10"}).status_code == 403


def test_only_an_admin_deletes_through_the_api(analyst, admin, mission):
    assert token_client(analyst).delete(f"/api/missions/{mission.pk}/").status_code == 403
    assert token_client(admin).delete(f"/api/missions/{mission.pk}/").status_code == 204


def test_it_refuses_requests_without_a_valid_token(mission):
    assert Client().get("/api/missions/").status_code in (401, 403)
    bad = Client(headers={"Authorization": "Token not-a-real-token"})
    assert bad.get("/api/missions/").status_code == 401


def test_it_serves_the_openapi_schema(viewer):
    schema = login(viewer).get(reverse("api_schema") + "?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/missions/{id}/uploads/" in paths and "/api/videos/{id}/scores/" in paths


def test_an_admin_trains_a_detector_through_the_api(admin, analyst, area):
    body = {"kind": "mil", "name": "MIL from the ground station"}
    assert token_client(analyst).post(f"/api/areas/{area.pk}/detectors/", body, content_type="application/json").status_code == 403
    response = token_client(admin).post(f"/api/areas/{area.pk}/detectors/", body, content_type="application/json")
    assert response.status_code == 202, response.content
    assert response.json()["detector"]["name"] == "MIL from the ground station"
    assert response.json()["job"]["kind"] == "train"
    assert Detector.objects.get().area == area
    listed = token_client(analyst).get(f"/api/areas/{area.pk}/detectors/").json()["results"]
    assert [d["kind"] for d in listed] == ["mil"]
    bad = token_client(admin).post(f"/api/areas/{area.pk}/detectors/", {"kind": "svm"}, content_type="application/json")
    assert bad.status_code == 400 and Detector.objects.count() == 1


def test_the_reference_page_lists_the_endpoints_from_the_schema(viewer, outsider):
    page = login(viewer).get(reverse("api_docs")).content.decode()
    assert "/api/missions/{id}/uploads/" in page and "<code>GET PUT PATCH DELETE</code>" in page
    assert "An area&#x27;s detectors" in page
    assert login(outsider).get(reverse("api_docs")).status_code == 403


def test_a_page_holds_at_most_a_thousand_rows_and_the_schema_says_so(viewer):
    Area.objects.bulk_create(Area(name=f"Area {number}") for number in range(1005))
    client = token_client(viewer)
    too_many = client.get(reverse("api_areas") + "?limit=100000000")
    assert too_many.status_code == 400 and "limit" in too_many.json()["detail"]
    page = client.get(reverse("api_areas") + "?limit=1000").json()
    assert page["count"] == 1005 and len(page["results"]) == 1000 and page["next"]
    assert len(client.get(reverse("api_areas")).json()["results"]) == 100, "the default page is unchanged"
    schema = login(viewer).get(reverse("api_schema") + "?format=json").json()
    limit = next(p for p in schema["paths"]["/api/areas/"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 1000 and "at most 1000" in limit["description"]
