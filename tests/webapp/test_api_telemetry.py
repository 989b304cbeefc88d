"""The API's telemetry endpoint: attach a sidecar to a video with a token, read the pose table back, the
line-numbered refusal of a malformed sidecar, roles, and its place in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.support.telemetry import MALFORMED_SRT, write_flight_srt
from tests.webapp.catalog_actors import login
from webapp.catalog.models import Video

pytestmark = pytest.mark.django_db


def token_client(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


@pytest.fixture
def video(mission):
    return Video.objects.create(mission=mission, original_name="DJI_0042.MP4")


def url(video) -> str:
    return reverse("api_video_telemetry", args=[video.pk])


def post(client, video, name: str, data: bytes):
    return client.post(url(video), {"file": SimpleUploadedFile(name, data)})


def test_it_attaches_a_sidecar_and_serves_its_poses(analyst, viewer, video, tmp_path):
    srt = write_flight_srt(tmp_path / "DJI_0042.SRT").read_bytes()
    response = post(token_client(analyst), video, "DJI_0042.SRT", srt)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "video": video.pk, "telemetry_name": "DJI_0042.SRT", "telemetry_error": "", "has_telemetry": True,
        "pose_count": 5, "start_latitude": pytest.approx(59.3), "start_longitude": pytest.approx(18.9),
        "end_latitude": pytest.approx(59.304), "end_longitude": pytest.approx(18.908),
    }
    read = token_client(viewer).get(url(video)).json()
    assert read["has_telemetry"] and read["poses"]["latitude"] == pytest.approx([59.3, 59.301, 59.302, 59.303, 59.304])
    assert read["poses"]["time"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    detail = token_client(viewer).get(reverse("api_video", args=[video.pk])).json()
    assert detail["has_telemetry"] and detail["telemetry_name"] == "DJI_0042.SRT" and detail["pose_count"] == 5


def test_a_malformed_sidecar_is_refused_with_its_line(analyst, video):
    response = post(token_client(analyst), video, "DJI_0042.SRT", MALFORMED_SRT.encode())
    assert response.status_code == 422
    assert response.json()["detail"] == "“DJI_0042.SRT” line 5: [latitude: 59.3x] is not a number"
    assert response.json()["has_telemetry"] is False
    video.refresh_from_db()
    assert video.telemetry_error == response.json()["detail"] and video.telemetry_file == ""
    assert token_client(analyst).get(url(video)).json()["poses"] is None


def test_it_refuses_a_file_that_is_not_a_sidecar_and_a_missing_file(analyst, video):
    client = token_client(analyst)
    response = post(client, video, "notes.pdf", b"%PDF-1.4")
    assert response.status_code == 400 and "is not a telemetry sidecar" in response.json()["detail"]
    assert client.post(url(video), {}).status_code == 400


def test_a_viewer_reads_but_cannot_attach(viewer, video, tmp_path):
    srt = write_flight_srt(tmp_path / "DJI_0042.SRT").read_bytes()
    assert post(token_client(viewer), video, "DJI_0042.SRT", srt).status_code == 403
    assert token_client(viewer).get(url(video)).json()["has_telemetry"] is False
    assert Client().get(url(video)).status_code in (401, 403)


def test_the_schema_documents_the_endpoint(viewer):
    schema = login(viewer).get(reverse("api_schema") + "?format=json").json()
    operations = schema["paths"]["/api/videos/{id}/telemetry/"]
    assert "multipart/form-data" in operations["post"]["requestBody"]["content"]
    assert {"200", "413", "422"} <= set(operations["post"]["responses"])
    assert "line-numbered" in operations["post"]["description"]
    assert "get" in operations
