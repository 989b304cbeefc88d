"""Starting evaluate and export jobs from the web app, who may, and where their files are served (no worker)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.support.seed import make_detector, make_mission, make_user, seed_scored_video
from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.models import Detector, Event
from webapp.jobs import services
from webapp.jobs.kinds import JOB_KINDS
from webapp.jobs.models import Job
from webapp.jobs.views import job_json
from workers.claim import run_job
from workers.evaluation import run_evaluation
from workers.export import manifest_name, run_export

pytestmark = pytest.mark.django_db


def client_for(role: str | None) -> Client:
    """A logged-in client for the (one) user of `role`."""
    client = Client()
    client.force_login(User.objects.filter(username=f"user-{role}").first() or make_user(f"user-{role}", role))
    return client


@pytest.fixture
def scored():
    """A mission with a boat video and a calm one, both scored by a CAE (synthetic scores, no model needed)."""
    mission = make_mission()
    seed_scored_video(mission, name="boat.mp4", anomalies=((20.0, 26.0, "boat"),), seed=1)
    seed_scored_video(mission, name="calm.mp4", anomalies=(), label=Video.Label.NORMAL, seed=2)
    return mission


def test_start_evaluation_enqueues_after_commit_and_reuses_a_job_under_way(scored, django_capture_on_commit_callbacks):
    detector = Detector.objects.get(area=scored.area)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.start_evaluation(detector)
        assert services.start_evaluation(detector) == job
    assert (job.kind, job.detector, job.state) == (Job.Kind.EVALUATE, detector, Job.State.QUEUED)
    assert len(callbacks) == 1 and JOB_KINDS[job.kind].task == "skerry.evaluate"


def test_start_export_enqueues_after_commit_and_reuses_a_job_under_way(scored, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.start_export(scored)
        assert services.start_export(scored) == job
    assert (job.kind, job.mission, job.state) == (Job.Kind.EXPORT, scored, Job.State.QUEUED)
    assert len(callbacks) == 1 and JOB_KINDS[job.kind].task == "skerry.export"
    services.cancel_job(job)
    with django_capture_on_commit_callbacks(execute=False):
        assert services.start_export(scored) != job, "a cancelled export is not reused"


def test_the_evaluation_of_already_scored_videos_only_measures(scored):
    detector = Detector.objects.get(area=scored.area)
    job = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector)
    assert run_job(job.pk, run_evaluation, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    job.refresh_from_db()
    assert job.result["scored"] == [] and (job.result["videos"], job.result["normal"]) == (2, 1)
    document = json.loads((Path(settings.MEDIA_ROOT) / job.result["metrics"]).read_text())
    assert document["detectors"][detector.name]["frame_auc"] == job.result["frame_auc"] > 0.9


def test_an_evaluation_with_one_class_fails_saying_what_to_label(scored):
    detector = Detector.objects.get(area=scored.area)
    LabelInterval.objects.all().delete()  # the boat video becomes a weak label: no anomalous frame is known
    job = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector)
    assert run_job(job.pk, run_evaluation, worker="test") == "failed"
    job.refresh_from_db()
    assert "one class only (1 normal, 0 anomalous with intervals)" in job.error
    assert "anomalous intervals marked" in job.error


def test_an_untrained_detector_is_not_evaluated(scored):
    detector = Detector.objects.create(area=scored.area, kind="cae", name="new")
    job = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector)
    assert run_job(job.pk, run_evaluation, worker="test") == "failed"
    assert "train it first" in Job.objects.get(pk=job.pk).error
    response = client_for("admin").post(reverse("detector_evaluate", args=[detector.pk]), follow=True)
    assert "not trained yet" in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.EVALUATE, detector=detector, state=Job.State.QUEUED).exists()


def test_only_those_who_may_train_start_an_evaluation(scored, django_capture_on_commit_callbacks):
    detector = Detector.objects.get(area=scored.area)
    url = reverse("detector_evaluate", args=[detector.pk])
    for role in ("viewer", "analyst"):
        client = client_for(role)
        assert client.post(url).status_code == 403
        assert "Evaluate on labelled videos" not in client.get(detector.get_absolute_url()).content.decode()
    admin = client_for("admin")
    assert "Evaluate on labelled videos" in admin.get(detector.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        assert admin.post(url).status_code == 302
    assert Job.objects.filter(kind=Job.Kind.EVALUATE, detector=detector, created_by__username="user-admin").count() == 1


def test_the_detector_page_shows_the_latest_evaluation_and_serves_its_files(scored):
    detector = Detector.objects.get(area=scored.area)
    job = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector)
    run_job(job.pk, run_evaluation, worker="test")
    job.refresh_from_db()
    viewer = client_for("viewer")
    page = viewer.get(detector.get_absolute_url()).content.decode()
    assert "Evaluate on labelled videos" not in page, "viewers see the numbers, not the button"
    assert f"{job.result['frame_auc']:.4g}" in page and "2 (1 normal, 1 anomalous)" in page
    metrics_url = reverse("detector_evaluation_file", args=[detector.pk, job.pk, "metrics.json"])
    assert metrics_url in page and job.output_url == metrics_url
    served = viewer.get(metrics_url)
    assert served.status_code == 200 and json.loads(b"".join(served.streaming_content))["schema_version"] == 2
    assert served["Content-Disposition"] == 'attachment; filename="metrics.json"'
    assert served["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert viewer.get(reverse("detector_evaluation_file", args=[detector.pk, job.pk, "report.md"])).status_code == 200
    assert viewer.get(reverse("detector_evaluation_file", args=[detector.pk, job.pk, "model.pt"])).status_code == 404
    other = make_detector(make_mission("South", "P").area, "cae")
    assert viewer.get(reverse("detector_evaluation_file", args=[other.pk, job.pk, "metrics.json"])).status_code == 404
    assert client_for(None).get(metrics_url).status_code == 403


def test_analysts_start_an_export_and_viewers_download_it(scored, django_capture_on_commit_callbacks):
    url = reverse("mission_export", args=[scored.pk])
    assert client_for("viewer").post(url).status_code == 403
    analyst = client_for("analyst")
    assert "Export mission (zip)" in analyst.get(reverse("mission_report", args=[scored.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        assert analyst.post(url).status_code == 302
    job = Job.objects.get(kind=Job.Kind.EXPORT, mission=scored)
    assert job.output_url == "" and job_json(job, True)["output_url"] == ""
    assert run_job(job.pk, run_export, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    job.refresh_from_db()
    download = reverse("mission_export_download", args=[scored.pk, job.pk])
    assert job.output_url == download and job_json(job, False)["output_label"] == "Download zip"

    viewer = client_for("viewer")
    assert download in viewer.get(reverse("mission_report", args=[scored.pk])).content.decode()
    response = viewer.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="mission-{scored.pk}-export.zip"'
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    saved = Path(settings.MEDIA_ROOT) / "got.zip"
    saved.write_bytes(b"".join(response.streaming_content))
    assert len(zipfile.ZipFile(saved).namelist()) == 6  # CSV, JSON, GeoJSON, KML, report, manifest
    other = make_mission("North reef", "Patrol 2")
    assert viewer.get(reverse("mission_export_download", args=[other.pk, job.pk])).status_code == 404
    assert client_for(None).get(download).status_code == 403


def test_manifest_names_are_the_original_names_made_unique():
    taken: set[str] = set()
    first, second = Video(pk=1, original_name="a.mp4"), Video(pk=2, original_name="a.mp4")
    assert [manifest_name(first, taken), manifest_name(second, taken)] == ["a.mp4", "2-a.mp4"]


def test_the_demo_exports_its_busiest_mission(scored):
    from webapp.core.demo import busiest_mission

    make_mission(scored.area.name, "Quiet patrol")
    assert busiest_mission(scored.area) == scored


def test_the_export_zip_quotes_formula_cells_in_both_csv_files(scored):
    video = scored.videos.get(original_name="boat.mp4")
    Video.objects.filter(pk=video.pk).update(original_name="=HYPERLINK(1).mp4")
    LabelInterval.objects.filter(video=video).update(anomaly_class="@boat")
    Event.objects.filter(score_run__video=video).update(note="+SUM(1,2)")
    job = Job.objects.create(kind=Job.Kind.EXPORT, mission=scored)
    assert run_job(job.pk, run_export, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    job.refresh_from_db()
    archive = zipfile.ZipFile(Path(settings.MEDIA_ROOT) / job.result["zip"])
    read = {name.rsplit("/", 1)[-1]: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
            for name in archive.namelist() if name.endswith(".csv")}
    manifest = {row["video"]: row for row in read["manifest.csv"]}
    assert manifest["'=HYPERLINK(1).mp4"]["classes"] == "'@boat" and "calm.mp4" in manifest
    events = [row for row in read["events.csv"] if row["video"] == "'=HYPERLINK(1).mp4"]
    assert events and all(row["note"] == "'+SUM(1,2)" for row in events)


def test_the_export_manifest_names_each_telemetry_sidecar_by_its_uploaded_name(scored):
    from tests.support.telemetry import write_flight_srt
    from webapp.catalog import telemetry

    video = scored.videos.get(original_name="boat.mp4")
    sidecar = write_flight_srt(Path(settings.MEDIA_ROOT) / "DJI_0042.SRT")
    telemetry.attach_sidecar(video, sidecar.name, [sidecar.read_bytes()], sidecar.stat().st_size)
    job = Job.objects.create(kind=Job.Kind.EXPORT, mission=scored)
    assert run_job(job.pk, run_export, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    job.refresh_from_db()
    archive = zipfile.ZipFile(Path(settings.MEDIA_ROOT) / job.result["zip"])
    name = next(n for n in archive.namelist() if n.endswith("manifest.csv"))
    rows = {row["video"]: row for row in csv.DictReader(io.StringIO(archive.read(name).decode()))}
    assert rows["boat.mp4"]["telemetry"] == "DJI_0042.SRT" and rows["calm.mp4"]["telemetry"] == ""
