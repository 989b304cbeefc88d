"""Importing a manifest and its videos from the area page (catalog.importing does the work)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape

from detection.errors import VideoError
from tests.support.videos import make_video
from tests.webapp.catalog_actors import login
from webapp.catalog.models import LabelInterval, Mission, Video
from webapp.catalog.video_files import probe_video_file
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def clips(tmp_path) -> dict[str, bytes]:
    return {
        "a.mp4": make_video(tmp_path / "a.mp4", seconds=2).read_bytes(),
        "b.mp4": make_video(tmp_path / "b.mp4", seconds=3, box_from=1.0).read_bytes(),
    }


def post(user, area, manifest: str, clips: dict[str, bytes]):
    files = [SimpleUploadedFile(name, data, content_type="video/mp4") for name, data in clips.items()]
    form = {"manifest": SimpleUploadedFile("manifest.csv", manifest.encode()), "videos": files,
            "mission_per_folder": "on"}
    return login(user).post(reverse("area_import", args=[area.pk]), form)


def test_it_imports_a_manifest_with_its_videos(analyst, area, clips):
    manifest = "video,label,split,intervals,classes\nday01/a.mp4,normal,train,,\nday02/b.mp4,anomalous,test,1.0-2.5,boat\n"
    response = post(analyst, area, manifest, clips)
    assert response.status_code == 302 and response["Location"] == area.get_absolute_url()
    assert sorted(Mission.objects.values_list("name", flat=True)) == ["day01", "day02"]
    b = Video.objects.get(original_name="b.mp4")
    assert (b.label, b.split, b.mission.name, b.labelled_by) == ("anomalous", "test", "day02", analyst)
    assert list(LabelInterval.objects.values_list("start", "end", "anomaly_class")) == [(1.0, 2.5, "boat")]
    assert (Path(settings.MEDIA_ROOT) / b.file).read_bytes() == clips["b.mp4"]
    assert Job.objects.filter(kind=Job.Kind.INGEST).count() == 2
    assert not list((Path(settings.MEDIA_ROOT) / "imports").iterdir())


def test_it_rejects_a_manifest_with_problems_and_imports_nothing(analyst, area, clips):
    manifest = "video,label,split,intervals,classes\nday01/a.mp4,normal,,,\nday02/b.mp4,anomalous,,2.5-1.0,\n"
    page = post(analyst, area, manifest, clips).content.decode()
    assert "Nothing was imported" in page and "line 3" in page
    assert not Video.objects.exists() and not Mission.objects.exists()


def test_it_names_a_row_whose_file_was_not_uploaded(analyst, area, clips):
    manifest = "video,label,split,intervals,classes\nday01/a.mp4,normal,,,\nday01/c.mp4,normal,,,\n"
    page = post(analyst, area, manifest, clips).content.decode()
    assert "day01/c.mp4: no uploaded file is called c.mp4" in page
    assert not Video.objects.exists()


def test_it_refuses_paths_that_leave_the_folder(analyst, area, clips):
    manifest = "video,label,split,intervals,classes\n../a.mp4,normal,,,\n"
    page = post(analyst, area, manifest, clips).content.decode()
    assert "../a.mp4 escapes the manifest&#x27;s folder" in page
    assert not Video.objects.exists()


def test_a_viewer_cannot_import(viewer, area, clips):
    assert post(viewer, area, "video,label\n", clips).status_code == 403


PLANTED = {"planted.js": b"fetch('/detectors/1/active', {method: 'POST'});",
           "report.html": b"<script src='original.js'></script>"}


def expected_refusal(tmp_path, name: str, data: bytes) -> str:
    """The message a tus upload of the same file gets (the shared video probe)."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(VideoError) as refused:
        probe_video_file(path, name)
    return str(refused.value)


def test_it_refuses_files_that_are_not_videos_and_keeps_none_of_them(analyst, area, clips, tmp_path):
    manifest = "video,label,split,intervals,classes\nday01/a.mp4,normal,,,\nday01/planted.js,normal,,,\n" \
               "day01/report.html,,,,\n"
    response = post(analyst, area, manifest, {"a.mp4": clips["a.mp4"], **PLANTED})
    page = response.content.decode()
    assert response.status_code == 400 and "Nothing was imported" in page
    for name, data in PLANTED.items():
        assert escape(f"day01/{name}: {expected_refusal(tmp_path, name, data)}") in page
    assert not Video.objects.exists() and not Mission.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not (media / "videos").exists() or not list((media / "videos").rglob("*"))
    assert not list((media / "imports").iterdir())


def test_it_never_stores_a_user_chosen_extension_outside_the_video_ones(analyst, area, clips):
    disguised = {"clip.html": clips["a.mp4"]}
    response = post(analyst, area, "video,label,split,intervals,classes\nclip.html,normal,,,\n", disguised)
    assert response.status_code == 302
    video = Video.objects.get(original_name="clip.html")
    assert video.file.endswith("/original.mp4") and video.container
    assert (Path(settings.MEDIA_ROOT) / video.file).read_bytes() == clips["a.mp4"]


@override_settings(IMPORT_MAX_BYTES=500)
def test_it_refuses_an_import_larger_than_the_limit_before_reading_it(analyst, area, clips):
    response = post(analyst, area, "video,label,split,intervals,classes\nday01/a.mp4,normal,,,\n", clips)
    assert response.status_code == 413
    assert "larger than the 500 bytes import limit (SKERRY_IMPORT_MAX_BYTES)" in response.content.decode()
    assert not Video.objects.exists()


def test_it_imports_each_video_with_the_sidecar_its_telemetry_column_names(analyst, area, clips, tmp_path):
    from tests.support.telemetry import write_flight_srt

    srt = write_flight_srt(tmp_path / "a.SRT").read_bytes()
    manifest = ("video,label,split,intervals,classes,telemetry\nday01/a.mp4,normal,train,,,day01/a.SRT\n"
                "day02/b.mp4,anomalous,test,1.0-2.5,boat,\n")
    response = post(analyst, area, manifest, {**clips, "a.SRT": srt})
    assert response.status_code == 302, response.content.decode()
    a, b = Video.objects.get(original_name="a.mp4"), Video.objects.get(original_name="b.mp4")
    assert a.telemetry_name == "a.SRT" and (Path(settings.MEDIA_ROOT) / a.telemetry_file).read_bytes() == srt
    assert b.telemetry_file == ""


def test_it_names_a_sidecar_the_manifest_lists_but_the_form_lacks(analyst, area, clips):
    manifest = "video,label,split,intervals,classes,telemetry\nday01/a.mp4,normal,train,,,day01/a.SRT\n"
    response = post(analyst, area, manifest, clips)
    assert response.status_code == 400
    assert "day01/a.SRT: no uploaded file is called a.SRT" in response.content.decode()
    assert not Video.objects.exists()
