"""Deleting videos and missions through the pages and the API removes their files, after commit, and only then."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.support.seed import make_detector
from tests.webapp.catalog_actors import login
from webapp.catalog.deletion import delete_video
from webapp.catalog.models import Mission, Video
from webapp.detectors.models import ScoreRun
from webapp.jobs.models import Job
from webapp.uploads.models import UploadSession

pytestmark = pytest.mark.django_db


def media(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def write(relative: str) -> Path:
    path = media(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def cache_entry(key: str, source: Path) -> Path:
    """A frame-cache entry (native frames decoded for CHANGE) whose meta.json names `source`."""
    entry = media(f"frame-cache/{key}")
    entry.mkdir(parents=True, exist_ok=True)
    (entry / "meta.json").write_text(json.dumps({"source": str(source), "fps": 2.0, "size": None}))
    write(f"frame-cache/{key}/frames.npy")
    return entry


def video_with_files(mission) -> tuple[Video, list[Path]]:
    """A video with an original, a proxy, one score run and its native frames cached, each with a file on disk."""
    video = Video.objects.create(mission=mission, original_name="dawn.mp4")
    video.file = f"{video.media_dir}/original.mp4"
    video.save(update_fields=["file"])
    run = ScoreRun.objects.create(detector=make_detector(mission.area, "cae"), video=video)
    original = write(video.file)
    return video, [original, write(f"{video.media_dir}/proxy.mp4"), write(f"{run.media_dir}/scores.npz"),
                   cache_entry(f"v{video.pk}", original)]


def mission_files(mission) -> list[Path]:
    """A video's files, an unfinished upload's part file and an export zip of the mission."""
    _, files = video_with_files(mission)
    upload = UploadSession.objects.create(mission=mission, filename="half.mp4", length=100, offset=50)
    export = Job.objects.create(kind=Job.Kind.EXPORT, mission=mission, state=Job.State.SUCCEEDED)
    return [*files, write(upload.part_path), write(f"exports/{export.pk}/mission-{mission.pk}.zip")]


def delete_through(how: str, admin, url_name: str, pk: int):
    if how == "page":
        return login(admin).post(reverse(url_name, args=[pk]))
    token = Token.objects.create(user=admin)
    api = {"video_delete": "api_video", "mission_delete": "api_mission"}[url_name]
    return login(admin).__class__(headers={"Authorization": f"Token {token.key}"}).delete(reverse(api, args=[pk]))


@pytest.mark.parametrize("how", ["page", "api"])
def test_deleting_a_video_removes_its_folder_and_its_score_runs(how, admin, mission,
                                                               django_capture_on_commit_callbacks):
    video, files = video_with_files(mission)
    other = cache_entry("other", write("videos/elsewhere/original.mp4"))
    with django_capture_on_commit_callbacks(execute=True):
        response = delete_through(how, admin, "video_delete", video.pk)
    assert response.status_code in (302, 204)
    assert not Video.objects.exists() and not ScoreRun.objects.exists()
    assert [path for path in files if path.exists()] == []
    assert not media(video.media_dir).exists()
    assert (other / "meta.json").exists(), "another video's cached frames stay"


@pytest.mark.parametrize("how", ["page", "api"])
def test_deleting_a_mission_removes_its_videos_uploads_and_exports(how, admin, mission,
                                                                 django_capture_on_commit_callbacks):
    files = mission_files(mission)
    with django_capture_on_commit_callbacks(execute=True):
        response = delete_through(how, admin, "mission_delete", mission.pk)
    assert response.status_code in (302, 204)
    assert not Mission.objects.exists() and not UploadSession.objects.exists()
    assert [path for path in files if path.exists()] == []


def test_files_wait_for_the_commit_and_stay_when_the_delete_rolls_back(mission, django_capture_on_commit_callbacks):
    video, files = video_with_files(mission)
    kept = video.pk
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            delete_video(video)
            assert all(path.exists() for path in files), "nothing is removed before the commit"
            raise RuntimeError("the surrounding work failed")
    assert callbacks == []
    assert Video.objects.filter(pk=kept).exists()
    assert all(path.exists() for path in files)
