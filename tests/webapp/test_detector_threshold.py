"""The detector page's threshold tool and activation gate: who may use them, what they start, what they record.

"Use this threshold" starts a rethreshold job (the job itself: tests/workers/test_rethreshold.py); a detector
whose validation is degenerate is flagged on the page and made active only with an admin's explicit confirmation.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.detectors.models import Detector, DetectorDecision
from webapp.detectors.validation import degenerate_reasons
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db

FLAT = [{"epoch": e, "train_loss": 1.0 / (e + 1), "val_loss": 0.0421} for e in range(1, 9)]


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(make_user(f"user-{role}", role))
    return client


@pytest.fixture
def detector():
    seed_scored_video(make_mission(), name="boat.mp4", seed=1)
    found = Detector.objects.get()
    Detector.objects.filter(pk=found.pk).update(is_active=False)
    found.refresh_from_db()
    return found


def post_threshold(client, detector, value, capture):
    with capture(execute=False):
        return client.post(reverse("detector_threshold", args=[detector.pk]), {"threshold": value})


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_it_rejects_a_threshold_from_anyone_but_an_admin(detector, role, django_capture_on_commit_callbacks):
    assert post_threshold(client_for(role), detector, "0.4", django_capture_on_commit_callbacks).status_code == 403
    assert not Job.objects.filter(kind=Job.Kind.RETHRESHOLD).exists()


def test_an_admin_starts_one_rethreshold_job_and_the_threshold_waits_for_it(detector, django_capture_on_commit_callbacks):
    admin = client_for("admin")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post(reverse("detector_threshold", args=[detector.pk]), {"threshold": "0.4"})
        admin.post(reverse("detector_threshold", args=[detector.pk]), {"threshold": "0.5"})  # one under way
    assert response.status_code == 302 and len(callbacks) == 1
    job = Job.objects.get(kind=Job.Kind.RETHRESHOLD)
    assert (job.detector_id, job.params, job.created_by.username) == (detector.pk, {"threshold": 0.4}, "user-admin")
    assert Detector.objects.get(pk=detector.pk).threshold == 0.3  # the job changes it when its events are ready
    assert "is re-deriving events at 0.4" in admin.get(detector.get_absolute_url()).content.decode()


@pytest.mark.parametrize("value", ["", "abc", "nan", "inf"])
def test_it_refuses_a_threshold_that_is_not_a_number(detector, value, django_capture_on_commit_callbacks):
    response = post_threshold(client_for("admin"), detector, value, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and not Job.objects.filter(kind=Job.Kind.RETHRESHOLD).exists()


def test_the_page_shows_who_changed_the_threshold_and_when(detector):
    admin = make_user("boss", "admin")
    DetectorDecision.objects.create(detector=detector, decision=DetectorDecision.Decision.THRESHOLD,
                                    old_threshold=0.3, new_threshold=0.42, user=admin)
    client = Client()
    client.force_login(make_user("reader", "viewer"))
    html = client.get(detector.get_absolute_url()).content.decode()
    assert 'data-decision="threshold"' in html and "boss" in html and "0.3 → 0.42" in html


@pytest.mark.parametrize(("metrics", "curve", "words"), [
    ({"video_auc": 0.0, "videos": 6}, [], "video auc is 0"),
    ({"val_frames": 50}, FLAT, "validation loss stayed at about 0.0421"),
    ({"val_frames": 50, "val_anomalous_frames": 0}, [], "one class only"),
    ({"warnings": ["validation has no anomalies: threshold is the 99.0% quantile of 40 normal scores"]}, [],
     "one class only"),
])
def test_it_names_each_kind_of_degenerate_validation(metrics, curve, words):
    assert any(words in reason for reason in degenerate_reasons(metrics, curve))


def test_a_healthy_validation_has_no_warning():
    curve = [{"epoch": e, "val_loss": 1.0 / e} for e in range(1, 9)]
    assert degenerate_reasons({"video_auc": 0.8, "val_frames": 50, "val_anomalous_frames": 10}, curve) == []


def test_a_degenerate_detector_is_flagged_and_not_made_active_without_confirmation(detector):
    Detector.objects.filter(pk=detector.pk).update(validation_metrics={"video_auc": 0.0}, training_curve=FLAT)
    admin, url = client_for("admin"), reverse("detector_active", args=[detector.pk])
    html = admin.get(detector.get_absolute_url()).content.decode()
    assert 'id="degenerate-warning"' in html and 'name="confirm_degenerate"' in html
    response = admin.post(url, {"active": "1"}, follow=True)
    assert "was not made active" in response.content.decode()
    assert not Detector.objects.get(pk=detector.pk).is_active and not DetectorDecision.objects.exists()
    admin.post(url, {"active": "1", "confirm_degenerate": "1"})
    assert Detector.objects.get(pk=detector.pk).is_active
    decision = DetectorDecision.objects.get()
    assert decision.decision == "activated" and decision.user.username == "user-admin"
    assert "video auc is 0" in decision.detail and "validation loss stayed" in decision.detail


def test_a_healthy_detector_is_made_active_in_one_step(detector):
    client_for("admin").post(reverse("detector_active", args=[detector.pk]), {"active": "1"})
    assert Detector.objects.get(pk=detector.pk).is_active and not DetectorDecision.objects.exists()


def test_only_an_admin_confirms_a_degenerate_detector(detector):
    Detector.objects.filter(pk=detector.pk).update(validation_metrics={"video_auc": 0.0})
    url = reverse("detector_active", args=[detector.pk])
    assert client_for("analyst").post(url, {"active": "1", "confirm_degenerate": "1"}).status_code == 403
    assert not Detector.objects.get(pk=detector.pk).is_active
