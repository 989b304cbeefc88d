"""`manage.py import_dataset`: a manifest becomes an area, missions and labelled videos, once."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.support.videos import make_video
from webapp.accounts.models import Team
from webapp.catalog.importing import import_manifest
from webapp.catalog.models import Area, LabelInterval, Mission, Video
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    folder = tmp_path / "patrols"
    make_video(folder / "day01" / "a.mp4", seconds=1, fps=5, width=32, height=32)
    make_video(folder / "day02" / "b.mp4", seconds=2, fps=5, width=32, height=32, box_from=0.5)
    make_video(folder / "day02" / "c.mp4", seconds=1, fps=5, width=48, height=32)
    (folder / "day02" / "b.gt.npz").write_bytes(b"generated ground truth")
    path = folder / "manifest.csv"
    path.write_text(
        "video,label,split,intervals,classes\n"
        "day01/a.mp4,normal,train,,\n"
        "day02/b.mp4,anomalous,test,0.5-1;1.2-1.8,boat;person\n"
        "day02/c.mp4,,,,\n"
    )
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_dataset", *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_creates_the_area_missions_and_labelled_videos(manifest):
    output = run(manifest, "--area", "Skerries", "--no-ingest")
    assert "3 video(s) imported, 2 new mission(s), 0 already imported" in output
    area = Area.objects.get(name="Skerries")
    assert sorted(Mission.objects.filter(area=area).values_list("name", flat=True)) == ["day01", "day02"]
    a, b, c = (Video.objects.get(original_name=n) for n in ("a.mp4", "b.mp4", "c.mp4"))
    assert (a.mission.name, a.label, a.split) == ("day01", "normal", "train")
    assert (b.mission.name, b.label, b.split) == ("day02", "anomalous", "test")
    assert (c.label, c.split) == ("unlabelled", "")
    assert list(b.intervals.values_list("start", "end", "anomaly_class")) == [(0.5, 1.0, "boat"), (1.2, 1.8, "person")]
    for video, name in ((a, "day01/a.mp4"), (b, "day02/b.mp4")):
        stored = Path(settings.MEDIA_ROOT) / video.file
        assert video.file == f"videos/{video.pk}/original.mp4"
        assert video.sha256 == sha256(stored) == sha256(manifest.parent / name)
        assert video.size_bytes == stored.stat().st_size
    assert (Path(settings.MEDIA_ROOT) / b.media_dir / "original.gt.npz").read_bytes() == b"generated ground truth"
    assert not (Path(settings.MEDIA_ROOT) / a.media_dir / "original.gt.npz").exists()
    assert Job.objects.count() == 0


def test_a_new_area_goes_to_the_team_named_or_the_default_team(manifest):
    Team.objects.create(name="North team")
    run(manifest, "--area", "Skerries", "--team", "North team", "--no-ingest")
    assert Area.objects.get(name="Skerries").team.name == "North team"
    with pytest.raises(CommandError, match="no team called 'Nobody'"):
        run(manifest, "--area", "Elsewhere", "--team", "Nobody", "--no-ingest")


def test_a_rerun_creates_nothing_new(manifest):
    run(manifest, "--area", "Skerries", "--no-ingest")
    counts = (Area.objects.count(), Mission.objects.count(), Video.objects.count(), LabelInterval.objects.count())
    output = run(manifest, "--area", "Skerries", "--no-ingest")
    assert "0 video(s) imported, 0 new mission(s), 3 already imported (skipped)" in output
    assert (Area.objects.count(), Mission.objects.count(), Video.objects.count(),
            LabelInterval.objects.count()) == counts


def test_each_new_video_gets_an_ingest_job(manifest):
    result = import_manifest(manifest, area_name="Skerries")
    jobs = Job.objects.filter(kind=Job.Kind.INGEST)
    assert sorted(jobs.values_list("video_id", flat=True)) == sorted(v.pk for v in result.created)
    assert set(jobs.values_list("state", flat=True)) == {Job.State.QUEUED}


def test_hard_links_share_the_file_instead_of_copying(manifest):
    run(manifest, "--area", "Skerries", "--no-ingest", "--link")
    video = Video.objects.get(original_name="a.mp4")
    stored = Path(settings.MEDIA_ROOT) / video.file
    source = manifest.parent / "day01" / "a.mp4"
    assert os.path.samefile(stored, source) or stored.read_bytes() == source.read_bytes()


def test_symlinks_point_at_the_original(manifest):
    run(manifest, "--area", "Skerries", "--no-ingest", "--link", "symlink")
    stored = Path(settings.MEDIA_ROOT) / Video.objects.get(original_name="b.mp4").file
    assert stored.is_symlink() and stored.resolve() == (manifest.parent / "day02" / "b.mp4").resolve()


def test_one_mission_for_everything_when_asked(manifest):
    run(manifest, "--area", "Skerries", "--no-ingest", "--no-mission-per-folder", "--mission", "2026-05-01 sweep")
    mission = Mission.objects.get()
    assert mission.name == "2026-05-01 sweep" and mission.date.isoformat() == "2026-05-01"
    assert mission.videos.count() == 3


def test_a_bad_manifest_is_refused_with_line_numbers_and_nothing_is_created(manifest):
    manifest.write_text(manifest.read_text() + "day03/missing.mp4,normal,train,,\nday01/a.mp4,odd,,,\n")
    with pytest.raises(CommandError) as caught:
        run(manifest, "--area", "Skerries", "--no-ingest")
    assert "manifest.csv line 5: file not found: day03/missing.mp4" in str(caught.value)
    assert "manifest.csv line 6: unknown label 'odd'" in str(caught.value)
    assert (Area.objects.count(), Video.objects.count()) == (0, 0)


def test_the_telemetry_column_brings_each_sidecar_with_its_video_and_ingest_reads_it(manifest):
    from tests.support.jobs import ingest_job
    from tests.support.telemetry import write_flight_srt
    from workers.claim import run_job
    from workers.ingest import run_ingest

    sidecar = write_flight_srt(manifest.parent / "day01" / "a.SRT")
    manifest.write_text(
        "video,label,split,intervals,classes,telemetry\n"
        "day01/a.mp4,normal,train,,,day01/a.SRT\n"
        "day02/c.mp4,,,,,\n"
    )
    run(manifest, "--area", "Skerries", "--no-ingest")
    a, c = Video.objects.get(original_name="a.mp4"), Video.objects.get(original_name="c.mp4")
    assert (a.telemetry_name, a.telemetry_file) == ("a.SRT", f"videos/{a.pk}/telemetry.srt")
    assert (Path(settings.MEDIA_ROOT) / a.telemetry_file).read_bytes() == sidecar.read_bytes()
    assert (c.telemetry_name, c.telemetry_file) == ("", "")
    assert run_job(ingest_job(a).pk, run_ingest, worker="test") == "succeeded"
    a.refresh_from_db()
    assert a.has_telemetry and a.pose_count == 5 and (Path(settings.MEDIA_ROOT) / a.poses_path).is_file()


def test_a_telemetry_file_of_an_unknown_kind_is_refused_before_anything_is_stored(manifest):
    (manifest.parent / "day01" / "a.kml").write_text("<kml/>")
    manifest.write_text("video,label,split,intervals,classes,telemetry\nday01/a.mp4,normal,train,,,day01/a.kml\n")
    with pytest.raises(CommandError) as caught:
        run(manifest, "--area", "Skerries", "--no-ingest")
    assert "day01/a.mp4: “a.kml” is not a telemetry sidecar" in str(caught.value)
    assert Video.objects.count() == 0 and not (Path(settings.MEDIA_ROOT) / "videos").exists()
