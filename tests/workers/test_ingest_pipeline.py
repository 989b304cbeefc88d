"""The ingest pipeline as a plain function (no worker): real PyAV decoding of tiny real videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from detection.video.proxy import REMUXED
from tests.support.jobs import ingest_job, uploaded_video
from tests.support.videos import make_video
from webapp.catalog.models import Video
from webapp.detectors.models import Detector
from webapp.jobs.models import Job
from workers.claim import run_job
from workers.ingest import run_ingest

pytestmark = pytest.mark.django_db


def test_it_ingests_a_video_into_its_folder_and_fills_the_row(tiny_video):
    video = uploaded_video(tiny_video)
    killed = Path(settings.MEDIA_ROOT) / video.media_dir / ".ingest-7"  # staging of a run killed earlier
    killed.mkdir()
    (killed / "frames.npy.partial").write_bytes(b"half")
    job = ingest_job(video)
    assert run_job(job.pk, run_ingest, worker="test") == "succeeded"
    video.refresh_from_db()
    job.refresh_from_db()
    folder = Path(settings.MEDIA_ROOT) / video.media_dir
    frames = np.load(folder / "frames.npy", mmap_mode="r")
    times = np.load(folder / "timestamps.npy")
    assert video.status == Video.Status.READY and video.error == ""
    assert frames.shape == (4, 32, 32, 3) and video.frame_count == 4  # 2 s at 2 fps
    assert np.allclose(times, [0.0, 0.5, 1.0, 1.5])
    assert (video.width, video.height, video.codec) == (64, 48, "h264") and video.duration == pytest.approx(2.0)
    assert video.has_proxy and (folder / "proxy.mp4").stat().st_size > 0 and len(video.sha256) == 64
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "staging left behind"
    assert job.result["frames"] == 4 and job.result["scoring_job"] is None
    assert video.proxy_method == job.result["proxy"] == REMUXED  # a browser-playable H.264 upload is remuxed


def test_pieces_give_the_same_frames_as_one_pass(tmp_path):
    source = make_video(tmp_path / "long.mp4", seconds=4.0, fps=10)
    whole, pieces = uploaded_video(source, "whole.mp4"), None
    run_job(ingest_job(whole).pk, run_ingest, worker="test")
    Video.objects.filter(pk=whole.pk).update(sha256="")  # the same file may come again in this test
    pieces = uploaded_video(source, "pieces.mp4")
    job = ingest_job(pieces, pieces=3, helpers=0)
    assert run_job(job.pk, run_ingest, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    media = Path(settings.MEDIA_ROOT)
    for name in ("frames.npy", "timestamps.npy"):
        one = np.load(media / whole.media_dir / name)
        split = np.load(media / pieces.media_dir / name)
        assert np.array_equal(one, split), name
    assert Job.objects.get(pk=job.pk).result["pieces"] == 3
    assert (media / pieces.media_dir / "proxy.mp4").exists()
    assert Video.objects.get(pk=pieces.pk).proxy_method == REMUXED  # the pieces' media unit remuxes too


def test_a_bad_file_fails_the_video_and_the_job_with_the_reason(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video")
    video = uploaded_video(bogus)
    job = ingest_job(video)
    assert run_job(job.pk, run_ingest, worker="test") == "failed"
    video.refresh_from_db()
    job.refresh_from_db()
    assert video.status == Video.Status.FAILED and video.error
    assert job.error == video.error and "Traceback" not in job.error


def test_a_ready_video_in_an_area_with_active_detectors_gets_scored(tiny_video, django_capture_on_commit_callbacks):
    video = uploaded_video(tiny_video)
    detector = Detector.objects.create(area=video.mission.area, kind="cae", name="d", status="ready", is_active=True)
    job = ingest_job(video)
    with django_capture_on_commit_callbacks(execute=False):
        run_job(job.pk, run_ingest, worker="test")
    job.refresh_from_db()
    scoring = Job.objects.get(pk=job.result["scoring_job"])
    assert scoring.kind == Job.Kind.SCORE and scoring.video == video and scoring.params["detectors"] == [detector.pk]


def test_a_helper_arriving_after_the_run_ended_does_nothing(tiny_video):
    from workers.ingest import run_ingest_piece

    video = uploaded_video(tiny_video)
    job = ingest_job(video, pieces=2, helpers=0)
    run_job(job.pk, run_ingest, worker="test")
    job.refresh_from_db()
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)  # as if a late helper saw it still running
    assert run_ingest_piece(job.pk, job.runs) == "did 0 unit(s)"
    folder = Path(settings.MEDIA_ROOT) / video.media_dir
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
