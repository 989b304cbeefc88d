"""Telemetry sidecars on the pages: matched by name to an uploaded video, attached from the video page, the
pose table served to those who may see the video, and the flight's position on the video page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from detection.telemetry import PoseTable
from tests.support.telemetry import MALFORMED_SRT, flight_poses, write_flight_srt
from tests.support.videos import make_video
from tests.webapp.catalog_actors import login, tus_upload
from webapp.catalog.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def srt(tmp_path) -> bytes:
    return write_flight_srt(tmp_path / "flight.SRT").read_bytes()


def sidecar(name: str, data: bytes) -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")}


def send_to_mission(client, mission, name: str, data: bytes):
    return client.post(reverse("mission_telemetry", args=[mission.pk]), sidecar(name, data))


def media(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def test_a_sidecar_chosen_with_its_video_is_matched_by_file_name(analyst, mission, srt, tmp_path):
    client = login(analyst)
    clip = make_video(tmp_path / "clip.mp4", seconds=2).read_bytes()
    uploaded = tus_upload(client, reverse("upload_create", args=[mission.pk]), clip, "DJI_0042.MP4")
    other = Video.objects.create(mission=mission, original_name="DJI_0043.MP4")
    response = send_to_mission(client, mission, "DJI_0042.SRT", srt)
    assert response.status_code == 200, response.content
    video = Video.objects.get(pk=uploaded["Skerry-Video-Id"])
    body = response.json()
    assert body["video"] == video.pk and body["video_url"] == video.get_absolute_url()
    assert body["has_telemetry"] is True and body["pose_count"] == 5 and body["telemetry_error"] == ""
    assert video.has_telemetry and video.telemetry_name == "DJI_0042.SRT"
    assert video.telemetry_file == f"videos/{video.pk}/telemetry.srt"
    assert media(video.telemetry_file).read_bytes() == srt
    assert np.allclose(PoseTable.load(media(video.poses_path)).latitude, flight_poses().latitude, atol=1e-6)
    assert not Video.objects.get(pk=other.pk).has_telemetry


def test_it_refuses_a_sidecar_with_no_or_several_videos_of_its_name(analyst, mission, srt):
    client = login(analyst)
    Video.objects.create(mission=mission, original_name="DJI_0042.MP4")
    missing = send_to_mission(client, mission, "DJI_0099.SRT", srt)
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("no video of this mission is called DJI_0099.*")
    Video.objects.create(mission=mission, original_name="dji_0042.mov")
    twice = send_to_mission(client, mission, "DJI_0042.SRT", srt)
    assert twice.status_code == 409 and "2 videos of this mission are called DJI_0042.*" in twice.json()["error"]
    assert not Video.objects.filter(has_telemetry=True).exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("telemetry.*"))


def test_a_malformed_sidecar_gets_its_line_and_changes_nothing_else(analyst, mission, srt):
    client = login(analyst)
    video = Video.objects.create(mission=mission, original_name="DJI_0042.MP4")
    assert send_to_mission(client, mission, "DJI_0042.SRT", srt).status_code == 200
    response = send_to_mission(client, mission, "DJI_0042.SRT", MALFORMED_SRT.encode())
    assert response.status_code == 422
    message = "“DJI_0042.SRT” line 5: [latitude: 59.3x] is not a number"
    assert response.json()["telemetry_error"] == message
    video.refresh_from_db()
    assert video.telemetry_error == message
    assert video.has_telemetry and video.pose_count == 5  # the poses read before are kept
    assert media(video.telemetry_file).read_bytes() == srt
    assert sorted(p.name for p in media(video.media_dir).iterdir()) == ["poses.npz", "telemetry.srt"]


@pytest.mark.parametrize(("name", "status", "start"), [
    ("DJI_0042.txt", 400, "“DJI_0042.txt” is not a telemetry sidecar"),
    ("DJI_0042.SRT", 413, "“DJI_0042.SRT” is 1.1 KB, larger than the 100 bytes telemetry limit"),
])
def test_it_refuses_other_files_and_oversized_sidecars(analyst, mission, srt, settings, name, status, start):
    settings.TELEMETRY_MAX_BYTES = 100
    Video.objects.create(mission=mission, original_name="DJI_0042.MP4")
    response = send_to_mission(login(analyst), mission, name, srt[:1100])
    assert response.status_code == status and response.json()["error"].startswith(start)
    assert not list(Path(settings.MEDIA_ROOT).rglob("*telemetry*"))


def test_the_video_page_attaches_a_sidecar_and_shows_the_flight_position(analyst, mission, srt):
    video = Video.objects.create(mission=mission, original_name="patrol.mp4", duration=2.0)
    client = login(analyst)
    page = client.get(video.get_absolute_url()).content.decode()
    assert 'id="flight"' not in page and "catalog/flight.js" not in page
    assert f'action="{reverse("video_telemetry", args=[video.pk])}"' in page
    response = client.post(reverse("video_telemetry", args=[video.pk]), sidecar("patrol.SRT", srt), follow=True)
    page = response.content.decode()
    assert "Telemetry “patrol.SRT” read: 5 poses." in page
    assert f'data-poses-url="{reverse("video_poses", args=[video.pk])}"' in page
    for field, shown in (("latitude", "59.300000°"), ("longitude", "18.900000°"), ("rel_alt", "60.0 m"),
                         ("abs_alt", "62.5 m"), ("heading", "350.0° N"), ("pitch", "-90°")):
        assert f'data-pose="{field}">{shown}<' in page, field
    assert "patrol.SRT: 5 poses, from 59.30000, 18.90000 to 59.30400, 18.90800" in page
    assert "catalog/flight.js" in page


def test_the_video_page_shows_why_a_sidecar_was_not_read(analyst, mission):
    video = Video.objects.create(mission=mission, original_name="patrol.mp4")
    response = login(analyst).post(reverse("video_telemetry", args=[video.pk]),
                                   sidecar("patrol.SRT", MALFORMED_SRT.encode()), follow=True)
    page = response.content.decode()
    assert "Telemetry not added: “patrol.SRT” line 5: [latitude: 59.3x] is not a number" in page
    assert 'id="telemetry-error"' in page and 'id="flight"' not in page


def test_a_viewer_cannot_attach_a_sidecar(viewer, mission, srt):
    video = Video.objects.create(mission=mission, original_name="patrol.mp4")
    client = login(viewer)
    assert client.post(reverse("video_telemetry", args=[video.pk]), sidecar("patrol.SRT", srt)).status_code == 403
    assert send_to_mission(client, mission, "patrol.SRT", srt).status_code == 403
    assert not Video.objects.get(pk=video.pk).has_telemetry
    assert 'name="file"' not in client.get(video.get_absolute_url()).content.decode()


def test_the_pose_table_goes_only_to_those_who_may_see_the_video(analyst, viewer, outsider, mission, srt):
    video = Video.objects.create(mission=mission, original_name="patrol.mp4")
    url = reverse("video_poses", args=[video.pk])
    assert login(viewer).get(url).status_code == 404  # no telemetry yet
    login(analyst).post(reverse("video_telemetry", args=[video.pk]), sidecar("patrol.SRT", srt))
    response = login(viewer).get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert body["columns"]["time"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert body["columns"]["yaw"] == pytest.approx([-10.0, -5.0, 0.0, 5.0, 10.0])
    assert body["columns"]["abs_alt"] == pytest.approx([62.5, 63.5, 64.5, 65.5, 66.5])
    assert login(outsider).get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert login(viewer).get(reverse("video_poses", args=[video.pk + 1])).status_code == 404


def test_the_mission_page_says_which_videos_have_telemetry_and_why_one_has_none(analyst, mission, srt):
    read = Video.objects.create(mission=mission, original_name="DJI_0042.MP4")
    refused = Video.objects.create(mission=mission, original_name="DJI_0043.MP4")
    client = login(analyst)
    send_to_mission(client, mission, "DJI_0042.SRT", srt)
    send_to_mission(client, mission, "DJI_0043.SRT", MALFORMED_SRT.encode())
    page = client.get(mission.get_absolute_url()).content.decode()
    assert page.count('data-field="telemetry"') == 1 and "telemetry: 5 poses" in page
    assert "“DJI_0043.SRT” line 5: [latitude: 59.3x] is not a number" in page
    assert Video.objects.get(pk=read.pk).has_telemetry and not Video.objects.get(pk=refused.pk).has_telemetry
    assert f'data-telemetry-endpoint="{reverse("mission_telemetry", args=[mission.pk])}"' in page


GPX = """<?xml version="1.0"?>
<gpx version="1.1"><trk><trkseg>
<trkpt lat="59.3" lon="18.9"><ele>62.5</ele><time>2026-06-01T10:00:00Z</time></trkpt>
<trkpt lat="59.301" lon="18.902"><ele>63.5</ele><time>2026-06-01T10:00:01Z</time></trkpt>
</trkseg></trk></gpx>
"""
CSV = "time,lat,lon,alt,yaw\n0,59.3,18.9,60,90\n1,59.301,18.902,61,100\n"


@pytest.mark.parametrize(("name", "text", "shown"), [
    ("flight.gpx", GPX, {"latitude": "59.300000°", "abs_alt": "62.5 m", "rel_alt": "–", "heading": "–"}),
    ("flight.csv", CSV, {"longitude": "18.900000°", "rel_alt": "60.0 m", "abs_alt": "–", "heading": "090.0° E"}),
])
def test_gpx_and_csv_sidecars_show_what_they_record_and_a_dash_for_the_rest(analyst, mission, name, text, shown):
    video = Video.objects.create(mission=mission, original_name="flight.mp4")
    client = login(analyst)
    client.post(reverse("video_telemetry", args=[video.pk]), sidecar(name, text.encode()))
    assert Video.objects.get(pk=video.pk).telemetry_file == f"videos/{video.pk}/telemetry{name[-4:]}"
    page = client.get(video.get_absolute_url()).content.decode()
    for field, value in shown.items():
        assert f'data-pose="{field}">{value}<' in page, field
    columns = client.get(reverse("video_poses", args=[video.pk])).json()["columns"]
    assert (columns["rel_alt"] if name.endswith("gpx") else columns["abs_alt"]) == [None, None]
