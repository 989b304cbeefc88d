"""Media serving with HTTP Range: the right bytes, the right headers, and only to those allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.webapp.catalog_actors import login
from webapp.catalog.models import Video

pytestmark = pytest.mark.django_db
DATA = bytes((i * 7 + 3) % 256 for i in range(10_000))


@pytest.fixture
def video(mission):
    video = Video.objects.create(mission=mission, original_name="pass.mp4")
    folder = Path(settings.MEDIA_ROOT) / video.media_dir
    folder.mkdir(parents=True)
    (folder / "proxy.mp4").write_bytes(DATA)
    return video


def fetch(client, video, name="proxy.mp4", **headers):
    return client.get(reverse("video_media", args=[video.pk, name]), headers=headers)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=100-199", 100, 199), ("bytes=9990-", 9990, 9999), ("bytes=-50", 9950, 9999),
     ("bytes=0-0", 0, 0), ("bytes=9000-20000", 9000, 9999)],
)
def test_it_answers_a_range_with_exactly_those_bytes(viewer, video, header, first, last):
    response = fetch(login(viewer), video, Range=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/10000"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == DATA[first : last + 1]


def test_it_sends_the_whole_file_without_a_range(viewer, video):
    response = fetch(login(viewer), video)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes" and response["Content-Length"] == "10000"
    assert body(response) == DATA


@pytest.mark.parametrize("header", ["bytes=10000-", "bytes=20000-30000", "bytes=-0", "bytes=50-10"])
def test_it_refuses_a_range_outside_the_file(viewer, video, header):
    response = fetch(login(viewer), video, Range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10000"


def test_it_ignores_a_multi_range_request(viewer, video):
    response = fetch(login(viewer), video, Range="bytes=0-1,5-6")
    assert response.status_code == 200 and body(response) == DATA


def test_it_serves_only_files_inside_the_video_folder(viewer, video, mission):
    other = Video.objects.create(mission=mission, original_name="other.mp4")
    secret = Path(settings.MEDIA_ROOT) / other.media_dir / "proxy.mp4"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"secret")
    client = login(viewer)
    assert fetch(client, video, f"../{other.pk}/proxy.mp4").status_code == 404
    assert fetch(client, video, "missing.jpg").status_code == 404


def test_it_needs_a_role_that_may_see_the_mission(outsider, video):
    anonymous = fetch(login(outsider).__class__(), video)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert fetch(login(outsider), video).status_code == 403


def test_a_missing_video_is_not_found(viewer):
    assert login(viewer).get(reverse("video_media", args=[424242, "proxy.mp4"])).status_code == 404


def assert_never_run(response) -> None:
    """Headers every media response carries so that no browser runs or sniffs what it gets."""
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"


@pytest.mark.parametrize("name", ["original.html", "original.js", "original.svg", "original.mov", "notes.txt",
                                  "frames.npy", "original.HTML"])
def test_it_sends_anything_but_known_media_as_an_opaque_download(viewer, video, name):
    (Path(settings.MEDIA_ROOT) / video.media_dir / name).write_bytes(b"<script>alert(document.cookie)</script>")
    response = fetch(login(viewer), video, name)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert_never_run(response)


@pytest.mark.parametrize(("name", "content_type"), [("proxy.mp4", "video/mp4"), ("poster.jpg", "image/jpeg"),
                                                    ("thumbs/0001.jpg", "image/jpeg"), ("clip.webm", "video/webm")])
def test_it_sends_known_media_inline_with_the_same_protections(viewer, video, name, content_type):
    path = Path(settings.MEDIA_ROOT) / video.media_dir / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(DATA)
    response = fetch(login(viewer), video, name)
    assert response["Content-Type"] == content_type and response["Content-Disposition"].startswith("inline")
    assert_never_run(response)
    ranged = fetch(login(viewer), video, name, Range="bytes=0-9")
    assert ranged.status_code == 206 and ranged["Content-Type"] == content_type
    assert_never_run(ranged)


def test_data_files_are_attachments(viewer, video):
    (Path(settings.MEDIA_ROOT) / video.media_dir / "scores.json").write_text("{}")
    response = fetch(login(viewer), video, "scores.json")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="scores.json"'
    assert_never_run(response)


def test_a_refused_range_carries_the_protections_too(viewer, video):
    response = fetch(login(viewer), video, Range="bytes=20000-")
    assert response.status_code == 416
    assert_never_run(response)


def test_every_view_that_serves_stored_files_goes_through_the_one_helper():
    """A new FileResponse elsewhere would bypass the content-type allow-list and the sandbox."""
    root = Path(__file__).resolve().parents[2] / "webapp"
    senders = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if "FileResponse(" in p.read_text(encoding="utf-8"))
    assert senders == ["core/media.py"]
