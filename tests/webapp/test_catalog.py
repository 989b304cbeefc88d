"""Areas, missions and videos pages: what each role sees and may change, with server-side validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.webapp.catalog_actors import login
from webapp.catalog.models import Area, Mission, Video
from webapp.detectors.models import Detector
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(mission):
    return Video.objects.create(mission=mission, original_name="pass-1.mp4", duration=12.0, size_bytes=2048)


def test_the_dashboard_lists_recent_missions(viewer, mission):
    page = login(viewer).get(reverse("dashboard"))
    assert page.status_code == 200
    assert mission.get_absolute_url() in page.content.decode()


def test_it_lists_areas_and_lets_a_team_admin_create_one_in_their_team(viewer, admin, area):
    assert "North Skerries" in login(viewer).get(reverse("areas")).content.decode()
    response = login(admin).post(reverse("areas"), {"name": "South Reef", "team": area.team_id, "description": ""})
    created = Area.objects.get(name="South Reef")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.team == area.team


def test_it_rejects_area_creation_by_an_analyst(analyst, area):
    assert login(analyst).post(reverse("areas"), {"name": "Nope", "team": area.team_id}).status_code == 403


def test_it_rejects_a_duplicate_area_name_with_a_message(admin, area):
    response = login(admin).post(reverse("areas"), {"name": "north skerries", "team": area.team_id})
    assert response.status_code == 200
    assert "An area called “north skerries” already exists." in response.content.decode()
    assert Area.objects.count() == 1


def test_it_rejects_area_creation_by_a_viewer(viewer):
    assert login(viewer).post(reverse("areas"), {"name": "Nope"}).status_code == 403
    assert not Area.objects.exists()


def test_an_analyst_creates_a_mission_and_lands_on_it(analyst, area):
    form = {"area": area.pk, "name": "Noon patrol", "date": "2026-11-27", "drone": "D-4", "operator": "", "notes": ""}
    response = login(analyst).post(reverse("mission_create"), form)
    created = Mission.objects.get(name="Noon patrol")
    assert response["Location"] == created.get_absolute_url()
    assert created.created_by == analyst


def test_it_rejects_a_mission_without_a_date_or_with_a_taken_name(analyst, mission):
    form = {"area": mission.area.pk, "name": "dawn patrol", "date": ""}
    page = login(analyst).post(reverse("mission_create"), form).content.decode()
    assert "This field is required." in page
    assert "North Skerries already has a mission called “dawn patrol”." in page
    assert Mission.objects.count() == 1


def test_the_mission_page_shows_videos_and_the_upload_box(analyst, viewer, video):
    page = login(analyst).get(video.mission.get_absolute_url()).content.decode()
    assert "pass-1.mp4" in page and 'id="upload"' in page and "12.0 s" in page
    assert 'id="upload"' not in login(viewer).get(video.mission.get_absolute_url()).content.decode()


def test_mission_videos_json_reports_statuses(viewer, video):
    data = login(viewer).get(reverse("mission_videos_json", args=[video.mission.pk])).json()
    assert data["videos"] == [
        {"id": video.pk, "name": "pass-1.mp4", "status": "uploaded", "status_display": "Uploaded", "error": "",
         "label": "unlabelled", "duration": 12.0, "url": video.get_absolute_url()}
    ]


def test_scoring_without_a_ready_video_says_so(analyst, video):
    response = login(analyst).post(reverse("mission_score", args=[video.mission.pk]), follow=True)
    assert "No video of this mission is ready to score yet." in response.content.decode()
    assert not Job.objects.exists()


def test_scoring_without_a_detector_says_so(analyst, video):
    Video.objects.filter(pk=video.pk).update(status=Video.Status.READY)
    response = login(analyst).post(reverse("mission_score", args=[video.mission.pk]), follow=True)
    assert "No ready, active detector in this area" in response.content.decode()


def test_scoring_with_an_active_detector_queues_a_job(analyst, video):
    Video.objects.filter(pk=video.pk).update(status=Video.Status.READY)
    Detector.objects.create(area=video.mission.area, kind="cae", name="c1", status="ready", is_active=True)
    response = login(analyst).post(reverse("mission_score", args=[video.mission.pk]), follow=True)
    assert "Scoring queued" in response.content.decode()
    job = Job.objects.get(kind=Job.Kind.SCORE)
    assert job.mission == video.mission and job.created_by == analyst


def test_an_admin_starts_training_from_the_area_page(admin, area):
    response = login(admin).post(reverse("area_train", args=[area.pk]), {"kind": "mil", "name": "MIL one"})
    assert response["Location"] == area.get_absolute_url()
    detector = Detector.objects.get()
    assert (detector.kind, detector.name, detector.created_by) == ("mil", "MIL one", admin)
    assert Job.objects.get(kind=Job.Kind.TRAIN).detector == detector
    assert "MIL one" in login(admin).get(area.get_absolute_url()).content.decode()


def test_training_takes_epochs_and_whether_to_use_the_detector(admin, area):
    login(admin).post(reverse("area_train", args=[area.pk]), {"kind": "cae", "epochs": "12", "activate": "on"})
    login(admin).post(reverse("area_train", args=[area.pk]), {"kind": "cae"})
    first, second = Detector.objects.order_by("pk")
    assert (first.config, first.is_active) == ({"epochs": 12}, True)
    assert (second.config, second.is_active) == ({}, False)


def test_it_rejects_a_nonsense_epoch_count(admin, area):
    login(admin).post(reverse("area_train", args=[area.pk]), {"kind": "cae", "epochs": "-3"})
    assert not Detector.objects.exists()


def test_it_rejects_training_by_an_analyst(analyst, area):
    assert login(analyst).post(reverse("area_train", args=[area.pk]), {"kind": "cae"}).status_code == 403
    assert not Detector.objects.exists()


def test_the_video_page_has_the_player_and_the_labeller(viewer, video):
    Video.objects.filter(pk=video.pk).update(has_proxy=True)
    page = login(viewer).get(video.get_absolute_url()).content.decode()
    assert reverse("video_media", args=[video.pk, "proxy.mp4"]) in page
    assert 'id="labeller"' in page and 'id="intervals-data"' in page


def test_an_admin_deletes_a_video_and_its_files(admin, analyst, video, django_capture_on_commit_callbacks):
    folder = Path(settings.MEDIA_ROOT) / video.media_dir
    folder.mkdir(parents=True)
    (folder / "original.mp4").write_bytes(b"x")
    assert login(analyst).post(reverse("video_delete", args=[video.pk])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin).post(reverse("video_delete", args=[video.pk]))
    assert response["Location"] == video.mission.get_absolute_url()
    assert not Video.objects.exists()
    assert not folder.exists()


def test_an_admin_deletes_a_mission(admin, mission):
    response = login(admin).post(reverse("mission_delete", args=[mission.pk]))
    assert response["Location"] == mission.area.get_absolute_url()
    assert not Mission.objects.exists()


def test_a_missing_mission_is_not_found(viewer):
    assert login(viewer).get(reverse("mission", args=[9999])).status_code == 404


def test_a_refusal_explains_which_role_is_needed(viewer, area):
    page = login(viewer).post(reverse("areas"), {"name": "Nope"})
    assert page.status_code == 403
    assert "This needs the admin role." in page.content.decode()
    assert "vera (viewer)" in page.content.decode()
