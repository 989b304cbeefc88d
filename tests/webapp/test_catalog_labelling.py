"""Labelling through the video page's JSON endpoints: labels, intervals, who and when, and refusals."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.webapp.catalog_actors import login
from webapp.catalog.models import LabelInterval, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(mission):
    return Video.objects.create(mission=mission, original_name="pass-1.mp4", duration=20.0)


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def add(client, video, **body):
    return post_json(client, reverse("video_intervals", args=[video.pk]), body)


def test_it_labels_a_video_and_keeps_who_and_when(analyst, video):
    response = post_json(login(analyst), reverse("video_label", args=[video.pk]), {"label": "normal"})
    assert response.status_code == 200
    assert response.json()["label"] == "normal" and response.json()["labelled_by"] == "anna"
    video.refresh_from_db()
    assert (video.label, video.labelled_by) == ("normal", analyst) and video.labelled_at is not None


def test_it_rejects_an_unknown_label(analyst, video):
    response = post_json(login(analyst), reverse("video_label", args=[video.pk]), {"label": "weird"})
    assert response.status_code == 400
    assert response.json()["error"] == "unknown label 'weird': choose one of unlabelled, normal, anomalous"
    video.refresh_from_db()
    assert video.label == "unlabelled"


def test_it_saves_an_interval_and_marks_the_video_anomalous(analyst, video):
    response = add(login(analyst), video, start=3.5, end=7.25, anomaly_class="boat")
    assert response.status_code == 201
    interval = LabelInterval.objects.get()
    assert (interval.start, interval.end, interval.anomaly_class, interval.created_by) == (3.5, 7.25, "boat", analyst)
    assert response.json()["interval"]["id"] == interval.pk
    video.refresh_from_db()
    assert video.label == "anomalous" and video.labelled_by == analyst
    listed = login(analyst).get(reverse("video_intervals", args=[video.pk])).json()
    assert [(i["start"], i["end"], i["created_by"]) for i in listed["intervals"]] == [(3.5, 7.25, "anna")]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (8, 4, "end 4.00s must come after start 8.00s"),
        (5, 5, "end 5.00s must come after start 5.00s"),
        (-1, 4, "start -1.00s is before the beginning of the video"),
        (10, 25, "end 25.00s is past the end of the video (20.00s)"),
        ("soon", 4, "start must be a number of seconds, not 'soon'"),
        (1, None, "end must be a number of seconds, not None"),
        (1, "nan", "end must be a finite number of seconds"),
    ],
)
def test_it_rejects_a_bad_interval_with_its_reason(analyst, video, start, end, message):
    response = add(login(analyst), video, start=start, end=end)
    assert response.status_code == 400
    assert response.json()["error"] == message
    assert not LabelInterval.objects.exists()
    video.refresh_from_db()
    assert video.label == "unlabelled"


def test_it_clamps_an_end_just_past_the_duration(analyst, video):
    assert add(login(analyst), video, start=19, end=20.3).status_code == 201
    assert LabelInterval.objects.get().end == 20.0


def test_it_rejects_a_body_that_is_not_json(analyst, video):
    response = login(analyst).post(reverse("video_intervals", args=[video.pk]), data="{", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "the request body is not valid JSON"


def test_it_deletes_an_interval(analyst, video):
    interval_id = add(login(analyst), video, start=1, end=2).json()["interval"]["id"]
    response = login(analyst).post(reverse("interval_delete", args=[interval_id]))
    assert response.json() == {"deleted": interval_id}
    assert not LabelInterval.objects.exists()


def test_a_viewer_cannot_label(viewer, video):
    assert post_json(login(viewer), reverse("video_label", args=[video.pk]), {"label": "normal"}).status_code == 403
    assert add(login(viewer), video, start=1, end=2).status_code == 403
    video.refresh_from_db()
    assert video.label == "unlabelled" and not LabelInterval.objects.exists()


def test_the_label_endpoints_need_the_csrf_token(analyst, video):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert post_json(client, reverse("video_label", args=[video.pk]), {"label": "normal"}).status_code == 403
    client.get(video.get_absolute_url())
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("video_label", args=[video.pk]), data='{"label": "normal"}', content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
