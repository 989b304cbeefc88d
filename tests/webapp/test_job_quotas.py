"""Heavy jobs (train, score, evaluate) a person may have queued or running are capped per user and per area.
(Issue 18: five training requests in a row queued five jobs.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.webapp.catalog_actors import login, make_user
from webapp.catalog.models import Area, Mission, Video
from webapp.detectors.models import Detector
from webapp.jobs import services
from webapp.jobs.models import Job
from webapp.jobs.quotas import JobLimitReached

pytestmark = pytest.mark.django_db

USER_CAP = "you already have 3 training, scoring or evaluation jobs queued or running, the most one person may have"


@pytest.fixture(autouse=True)
def _caps(settings):
    settings.MAX_ACTIVE_JOBS_PER_USER = 3
    settings.MAX_ACTIVE_JOBS_PER_AREA = 6


def api_client(user) -> Client:
    return Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})


def ready_detector(area, name="CAE ready") -> Detector:
    return Detector.objects.create(area=area, kind="cae", name=name, status=Detector.Status.READY, is_active=True)


def missions_with_a_ready_video(area, count: int) -> list[Mission]:
    missions = [Mission.objects.create(area=area, name=f"Patrol {i}", date=dt.date(2026, 11, i + 1)) for i in range(count)]
    for mission in missions:
        Video.objects.create(mission=mission, original_name="a.mp4", status=Video.Status.READY)
    return missions


def test_five_training_requests_in_a_row_on_the_page_queue_three(admin, area):
    client = login(admin)
    for i in range(5):
        response = client.post(reverse("area_train", args=[area.pk]), {"kind": "cae", "name": f"CAE {i}"}, follow=True)
    assert Job.objects.filter(kind=Job.Kind.TRAIN).count() == 3
    assert Detector.objects.count() == 3, "a refused training leaves no detector behind"
    assert f"Could not start training: {USER_CAP}" in response.content.decode()


def test_five_training_requests_in_a_row_on_the_api_answer_429_after_three(admin, area):
    api = api_client(admin)
    url = reverse("api_area_detectors", args=[area.pk])
    answers = [api.post(url, {"kind": "mil", "name": f"MIL {i}"}, content_type="application/json") for i in range(5)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert answers[3].json()["detail"].startswith(USER_CAP)
    assert Detector.objects.count() == 3


def test_scoring_many_missions_is_capped_on_the_api_and_the_page(analyst, area):
    ready_detector(area)
    missions = missions_with_a_ready_video(area, 5)
    api = api_client(analyst)
    answers = [api.post(reverse("api_mission_score", args=[m.pk])) for m in missions[:4]]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    page = login(analyst).post(reverse("mission_score", args=[missions[4].pk]), follow=True)
    assert f"Could not start scoring: {USER_CAP}" in page.content.decode()
    assert Job.objects.filter(kind=Job.Kind.SCORE).count() == 3


def test_asking_again_for_a_target_under_way_reuses_its_job_at_the_cap(admin, area):
    detectors = [ready_detector(area, f"D{i}") for i in range(3)]
    jobs = [services.start_evaluation(d, user=admin) for d in detectors]
    assert services.start_evaluation(detectors[0], user=admin) == jobs[0]
    with pytest.raises(JobLimitReached):
        services.start_evaluation(ready_detector(area, "D3"), user=admin)


def test_the_evaluate_button_says_why_it_did_nothing(admin, area):
    detectors = [ready_detector(area, f"D{i}") for i in range(4)]
    client = login(admin)
    for detector in detectors:
        response = client.post(reverse("detector_evaluate", args=[detector.pk]), follow=True)
    assert f"Could not start the evaluation: {USER_CAP}" in response.content.decode()
    assert Job.objects.filter(kind=Job.Kind.EVALUATE).count() == 3


def test_an_area_takes_only_so_many_heavy_jobs_from_everyone(admin, area, settings):
    settings.MAX_ACTIVE_JOBS_PER_AREA = 4
    second_admin = make_user("ada", "admin")
    for user in (admin, admin, second_admin, second_admin):
        services.start_training(ready_detector(area), user=user)
    with pytest.raises(JobLimitReached, match="North Skerries already has 4 training, scoring or evaluation jobs"):
        services.start_training(ready_detector(area), user=make_user("abe", "admin"))
    elsewhere = Area.objects.create(name="South Reef")
    assert services.start_training(ready_detector(elsewhere), user=make_user("abe2", "admin")).state == Job.State.QUEUED


def test_finished_and_cancelled_jobs_free_their_place(admin, area):
    jobs = [services.start_training(ready_detector(area, f"D{i}"), user=admin) for i in range(3)]
    Job.objects.filter(pk=jobs[0].pk).update(state=Job.State.SUCCEEDED)
    services.cancel_job(jobs[1], admin)
    services.start_training(ready_detector(area, "D3"), user=admin)
    services.start_training(ready_detector(area, "D4"), user=admin)
    with pytest.raises(JobLimitReached):
        services.start_training(ready_detector(area, "D5"), user=admin)


def test_light_jobs_and_jobs_started_without_a_person_are_not_capped(admin, area):
    for i in range(5):
        services.start_training(ready_detector(area, f"D{i}"))  # the demo, the workers, management commands
    mission = missions_with_a_ready_video(area, 1)[0]
    for _ in range(2):
        services.start_export(mission, user=admin)
        Job.objects.filter(kind=Job.Kind.EXPORT).update(state=Job.State.SUCCEEDED)
    assert Job.objects.filter(kind=Job.Kind.TRAIN, state=Job.State.QUEUED).count() == 5
    assert services.start_scoring(mission, user=admin) is not None, "the person's own count is still 0"


def test_a_retry_counts_against_the_person_retrying(admin, area):
    failed = services.start_training(ready_detector(area, "old"))
    Job.objects.filter(pk=failed.pk).update(state=Job.State.FAILED)
    for i in range(3):
        services.start_training(ready_detector(area, f"D{i}"), user=admin)
    client = login(admin)
    url = reverse("job_retry", args=[failed.pk])
    answer = client.post(url, headers={"Accept": "application/json"})
    assert answer.status_code == 429
    assert answer.json()["message"].startswith(f"Job #{failed.pk} was not retried: {USER_CAP}")
    page = client.post(url, follow=True)
    assert f"Job #{failed.pk} was not retried" in page.content.decode()
    failed.refresh_from_db()
    assert failed.state == Job.State.FAILED
