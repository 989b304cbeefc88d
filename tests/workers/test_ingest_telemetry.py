"""Ingest reads a video's stored telemetry sidecar into poses.npz; a malformed one never stops the ingest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from detection.telemetry import PoseTable
from tests.support.jobs import ingest_job, uploaded_video
from tests.support.telemetry import MALFORMED_SRT, flight_poses, write_flight_srt
from webapp.catalog.models import Video
from workers.claim import run_job
from workers.ingest import run_ingest

pytestmark = pytest.mark.django_db


def with_sidecar(video: Video, write) -> Video:
    relative = f"{video.media_dir}/telemetry.srt"
    write(Path(settings.MEDIA_ROOT) / relative)
    Video.objects.filter(pk=video.pk).update(telemetry_file=relative, telemetry_name="DJI_0042.SRT")
    return video


def test_it_stores_the_pose_table_and_its_summary(tiny_video):
    video = with_sidecar(uploaded_video(tiny_video, "DJI_0042.MP4"), write_flight_srt)
    job = ingest_job(video)
    assert run_job(job.pk, run_ingest, worker="test") == "succeeded"
    video.refresh_from_db()
    job.refresh_from_db()
    stored = PoseTable.load(Path(settings.MEDIA_ROOT) / video.poses_path)
    want = flight_poses()
    assert np.allclose(stored.time, want.time) and np.allclose(stored.latitude, want.latitude, atol=1e-6)
    assert np.allclose(stored.yaw, want.yaw, atol=0.05) and np.allclose(stored.abs_alt, want.abs_alt, atol=1e-3)
    assert video.status == Video.Status.READY and video.has_telemetry and video.telemetry_error == ""
    assert video.pose_count == 5
    assert (video.start_latitude, video.start_longitude) == pytest.approx((59.3, 18.9))
    assert (video.end_latitude, video.end_longitude) == pytest.approx((59.304, 18.908))
    assert job.result["telemetry"] == {"poses": 5}


def test_a_malformed_sidecar_is_reported_with_its_line_and_the_video_ingests_without_it(tiny_video):
    video = with_sidecar(uploaded_video(tiny_video, "DJI_0042.MP4"),
                         lambda path: path.write_text(MALFORMED_SRT, encoding="utf-8"))
    job = ingest_job(video)
    assert run_job(job.pk, run_ingest, worker="test") == "succeeded"
    video.refresh_from_db()
    job.refresh_from_db()
    assert video.status == Video.Status.READY and video.frame_count == 4 and video.has_proxy
    assert video.telemetry_error == "“DJI_0042.SRT” line 5: [latitude: 59.3x] is not a number"
    assert not video.has_telemetry and video.pose_count == 0
    assert not (Path(settings.MEDIA_ROOT) / video.poses_path).exists()
    assert job.result["telemetry"] == {"error": video.telemetry_error}


def test_a_video_without_a_sidecar_ingests_as_before(tiny_video):
    video = uploaded_video(tiny_video)
    job = ingest_job(video)
    assert run_job(job.pk, run_ingest, worker="test") == "succeeded"
    video.refresh_from_db()
    assert not video.has_telemetry and video.telemetry_error == ""
    job.refresh_from_db()
    assert job.result["telemetry"] is None


@pytest.mark.slow
def test_a_generated_patrol_imported_with_its_manifest_gets_its_flight_at_ingest(tmp_path):
    from detection.synth import generate
    from detection.telemetry import read_telemetry
    from webapp.catalog.importing import import_manifest

    manifest = generate(tmp_path / "patrol", preset="patrol_tiny", seed=0, jobs=1)
    result = import_manifest(manifest, area_name="Archipelago", start_ingest=False)
    video = next(v for v in result.created if v.mission.name == "day01")
    assert video.telemetry_name == "patrol.SRT"
    assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
    video.refresh_from_db()
    flight = read_telemetry(manifest.parent / "day01" / "patrol.SRT")
    stored = PoseTable.load(Path(settings.MEDIA_ROOT) / video.poses_path)
    assert video.has_telemetry and video.pose_count == len(flight) == len(stored)
    assert np.array_equal(stored.latitude, flight.latitude) and np.array_equal(stored.yaw, flight.yaw)
    assert stored.time[-1] == pytest.approx(video.duration, abs=0.5)  # a pose per frame, over the whole video
