"""tus uploads through the mission page's endpoints: chunks, resume, checks, duplicates, limits."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse

from tests.support.videos import make_video
from tests.webapp.catalog_actors import TUS, login, make_user, tus_create, tus_patch, tus_upload
from webapp.catalog.models import Mission, Video
from webapp.jobs.models import Job
from webapp.uploads.models import UploadSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(tmp_path) -> bytes:
    return make_video(tmp_path / "clip.mp4", seconds=3, fps=10, width=64, height=48).read_bytes()


def create_url(mission) -> str:
    return reverse("upload_create", args=[mission.pk])


def assert_mission_unchanged(mission) -> None:
    assert not mission.videos.exists()
    assert not list((Path(settings.MEDIA_ROOT) / "uploads").glob("*.part"))
    assert not (Path(settings.MEDIA_ROOT) / "videos").exists()


def test_it_uploads_in_chunks_with_a_resume_and_keeps_an_identical_file(analyst, mission, clip):
    client = login(analyst)
    chunk = max(1024, len(clip) // 5)
    created = tus_create(client, create_url(mission), len(clip), "Harbour pass.mp4")
    assert created.status_code == 201
    location = created["Location"]
    assert tus_patch(client, location, 0, clip[:chunk]).status_code == 204
    assert tus_patch(client, location, chunk, clip[chunk : 2 * chunk]).status_code == 204

    # The page is reloaded: a new browser session asks where the upload stands, resends from there.
    resumed = login(analyst)
    stale = tus_patch(resumed, location, chunk, clip[chunk : 2 * chunk])
    assert stale.status_code == 409
    head = resumed.head(location, headers=TUS)
    assert head.status_code == 200
    offset = int(head["Upload-Offset"])
    assert offset == 2 * chunk and int(head["Upload-Length"]) == len(clip)
    response = None
    while offset < len(clip):
        response = tus_patch(resumed, location, offset, clip[offset : offset + chunk])
        assert response.status_code == 204, response.content
        offset = int(response["Upload-Offset"])

    video = Video.objects.get(pk=response["Skerry-Video-Id"])
    assert video.mission == mission and video.original_name == "Harbour pass.mp4"
    assert video.sha256 == hashlib.sha256(clip).hexdigest()
    stored = Path(settings.MEDIA_ROOT) / video.file
    assert video.file == f"videos/{video.pk}/original.mp4"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(clip).hexdigest()
    assert video.duration == pytest.approx(3.0, abs=0.2) and (video.width, video.height) == (64, 48)
    assert video.codec == "h264"
    assert Job.objects.filter(kind=Job.Kind.INGEST, video=video).exists()
    assert UploadSession.objects.get(video=video).state == UploadSession.State.COMPLETE
    assert not list((Path(settings.MEDIA_ROOT) / "uploads").glob("*.part"))


def test_it_keeps_the_bytes_of_an_interrupted_chunk(analyst, mission, clip):
    client = login(analyst)
    location = tus_create(client, create_url(mission), len(clip))["Location"]
    # The connection dropped after 1000 bytes: the server keeps what arrived and says so on HEAD.
    response = tus_patch(client, location, 0, clip[:1000])
    assert response.status_code == 204 and response["Upload-Offset"] == "1000"
    rest = tus_patch(client, location, 1000, clip[1000:])
    assert rest.status_code == 204
    assert Video.objects.get(pk=rest["Skerry-Video-Id"]).sha256 == hashlib.sha256(clip).hexdigest()


def test_it_rejects_random_bytes_and_leaves_the_mission_unchanged(analyst, mission):
    junk = bytes(range(256)) * 40
    response = tus_upload(login(analyst), create_url(mission), junk, "notes.mp4")
    assert response.status_code == 422
    assert response.json()["error"].startswith("“notes.mp4” is not a video file: no known container format")
    assert response.json()["final"] is True
    assert_mission_unchanged(mission)
    session = UploadSession.objects.get()
    assert session.state == UploadSession.State.REJECTED
    assert login(analyst).head(reverse("upload", args=[session.pk]), headers=TUS).status_code == 410


def test_it_rejects_a_truncated_mp4(analyst, mission, clip):
    response = tus_upload(login(analyst), create_url(mission), clip[: len(clip) * 6 // 10], "cut.mp4")
    assert response.status_code == 422
    assert response.json()["error"].startswith("“cut.mp4” looks like an MP4/MOV file but is truncated or corrupt")
    assert_mission_unchanged(mission)


def test_it_rejects_an_audio_only_file(analyst, mission, tmp_path):
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for _ in range(5):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    response = tus_upload(login(analyst), create_url(mission), path.read_bytes(), "sound.mp4")
    assert response.status_code == 422
    assert response.json()["error"] == "“sound.mp4” has no video stream (it holds only: audio)"
    assert_mission_unchanged(mission)


def test_it_rejects_an_upload_over_the_size_limit(analyst, mission, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    response = tus_create(login(analyst), create_url(mission), 2_500_000_000)
    assert response.status_code == 413
    assert response.json()["error"] == "the file is 2.5 GB, larger than the 10.0 KB upload limit"
    assert not UploadSession.objects.exists()
    assert_mission_unchanged(mission)


def test_it_rejects_a_chunk_past_the_declared_length(analyst, mission, clip):
    client = login(analyst)
    location = tus_create(client, create_url(mission), 100)["Location"]
    response = tus_patch(client, location, 0, clip[:200])
    assert response.status_code == 413
    assert int(client.head(location, headers=TUS)["Upload-Offset"]) == 0


def test_it_recognises_a_duplicate_in_the_same_mission(analyst, mission, clip):
    client = login(analyst)
    first = tus_upload(client, create_url(mission), clip, "a.mp4")
    assert first.status_code == 204
    again = tus_upload(client, create_url(mission), clip, "copy of a.mp4")
    assert again.status_code == 409
    assert again.json()["error"] == "“copy of a.mp4” is already in this mission as “a.mp4”"
    assert mission.videos.count() == 1
    assert not list((Path(settings.MEDIA_ROOT) / "uploads").glob("*.part"))

    other = Mission.objects.create(area=mission.area, name="Dusk patrol", date=mission.date)
    assert tus_upload(client, create_url(other), clip, "a.mp4").status_code == 204


def test_it_never_uses_the_file_name_for_paths(analyst, mission, clip):
    response = tus_upload(login(analyst), create_url(mission), clip, "..\\../etc/<img src=x onerror=alert(1)>.exe")
    assert response.status_code == 204
    video = Video.objects.get()
    assert video.original_name == "<img src=x onerror=alert(1)>.exe"
    assert video.file == f"videos/{video.pk}/original.mp4"
    page = login(analyst).get(mission.get_absolute_url()).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;.exe" in page and "<img src=x" not in page


def test_it_checks_the_protocol_headers(analyst, mission):
    client = login(analyst)
    options = client.options(create_url(mission))
    assert options.status_code == 204
    assert options["Tus-Version"] == "1.0.0" and options["Tus-Max-Size"] == str(settings.UPLOAD_MAX_BYTES)
    assert "creation" in options["Tus-Extension"]
    no_version = client.post(create_url(mission), headers={"Upload-Length": "10"})
    assert no_version.status_code == 412
    no_length = client.post(create_url(mission), headers=TUS)
    assert no_length.status_code == 400 and "Upload-Length" in no_length.json()["error"]
    location = tus_create(client, create_url(mission), 10)["Location"]
    wrong_type = client.patch(location, data=b"x", content_type="text/plain", headers={**TUS, "Upload-Offset": "0"})
    assert wrong_type.status_code == 415


def test_it_lets_only_analysts_upload_and_only_to_their_own_session(viewer, analyst, admin, outsider, mission):
    assert tus_create(login(viewer), create_url(mission), 10).status_code == 403
    assert tus_create(login(outsider), create_url(mission), 10).status_code == 403
    location = tus_create(login(analyst), create_url(mission), 10)["Location"]
    assert login(make_user("alma", "analyst")).head(location, headers=TUS).status_code == 404
    assert login(admin).head(location, headers=TUS).status_code == 200


def test_it_terminates_an_upload(analyst, mission, clip):
    client = login(analyst)
    location = tus_create(client, create_url(mission), len(clip))["Location"]
    tus_patch(client, location, 0, clip[:500])
    assert client.delete(location, headers=TUS).status_code == 204
    assert not UploadSession.objects.exists()
    assert_mission_unchanged(mission)


def test_the_upload_check_does_not_import_torch():
    code = (
        "import sys, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'webapp.settings');"
        "import tests.env_defaults; django.setup(); import webapp.uploads.finalize, webapp.api.views;"
        "import importlib.util as u;"
        "u.find_spec('detection.video') and importlib.import_module('detection.video.probe');"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    code = "import importlib;" + code
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert result.returncode == 0, result.stderr


def test_purge_uploads_deletes_idle_unfinished_uploads_and_their_bytes(analyst, mission, clip):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    client = login(analyst)
    idle = tus_create(client, create_url(mission), len(clip))["Location"]
    tus_patch(client, idle, 0, clip[:500])
    fresh = tus_create(client, create_url(mission), len(clip))["Location"]
    idle_id = idle.rstrip("/").rsplit("/", 1)[-1]
    UploadSession.objects.filter(pk=idle_id).update(updated=timezone.now() - timedelta(days=4))
    call_command("purge_uploads", "--hours", "72")
    assert list(UploadSession.objects.values_list("pk", flat=True)) == [
        UploadSession.objects.get(pk=fresh.rsplit("/", 1)[-1]).pk
    ]
    assert [p.name for p in (Path(settings.MEDIA_ROOT) / "uploads").glob("*.part")] == [f"{fresh.rsplit('/', 1)[-1]}.part"]


def test_the_checksum_is_kept_as_chunks_arrive_and_rebuilt_when_the_chain_breaks(analyst, mission, clip, monkeypatch):
    from webapp.uploads import checksum

    client = login(analyst)
    expected = hashlib.sha256(clip).hexdigest()
    reread: list[Path] = []
    real_file_sha256 = checksum.file_sha256
    monkeypatch.setattr(checksum, "file_sha256", lambda path: reread.append(path) or real_file_sha256(path))
    assert tus_upload(client, create_url(mission), clip, "a.mp4", chunk=2000).status_code == 204
    assert Video.objects.get(original_name="a.mp4").sha256 == expected and reread == []

    other = Mission.objects.create(area=mission.area, name="Dusk patrol", date=mission.date)
    location = tus_create(client, create_url(other), len(clip))["Location"]
    tus_patch(client, location, 0, clip[:2000])
    checksum._running.clear()  # the next chunk lands in another web worker process
    assert tus_patch(client, location, 2000, clip[2000:]).status_code == 204
    assert Video.objects.get(mission=other).sha256 == expected and len(reread) == 1


def test_it_refuses_an_upload_the_disk_cannot_hold(analyst, mission, monkeypatch):
    from collections import namedtuple

    from webapp.uploads import protocol

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(protocol.shutil, "disk_usage", lambda path: usage(10 * 1024**3, 0, 1024**3 + 5_000_000))
    response = tus_create(login(analyst), create_url(mission), 6_000_000)
    assert response.status_code == 507
    assert response.json()["error"].startswith("the server has 5.0 MB free for uploads, not enough for this 6.0 MB file")
    assert not UploadSession.objects.exists()


def test_a_repeated_last_patch_gets_the_same_answer(analyst, mission, clip):
    client = login(analyst)
    location = tus_create(client, create_url(mission), len(clip))["Location"]
    first = tus_patch(client, location, 0, clip)
    again = tus_patch(client, location, len(clip), b"")  # the answer to the first was lost; the client asks again
    assert again.status_code == 204 and again["Skerry-Video-Id"] == first["Skerry-Video-Id"]
    assert mission.videos.count() == 1
