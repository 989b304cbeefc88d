"""The label rules: a label and the intervals never disagree, marking normal asks first (409 without consent),
intervals are edited by the same checks as new ones, and the page's status sentence matches the label."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.webapp.catalog_actors import login
from webapp.catalog import labelling
from webapp.catalog.models import LabelInterval, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(mission):
    return Video.objects.create(mission=mission, original_name="pass-1.mp4", duration=20.0)


@pytest.fixture
def boat(video, analyst):
    return labelling.add_interval(video, 3, 7, "boat", analyst)


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_marking_normal_a_video_with_intervals_is_refused_without_consent(video, boat, analyst):
    with pytest.raises(labelling.IntervalsWouldBeLost) as refused:
        labelling.set_video_label(video, "normal", analyst)
    assert refused.value.count == 1
    assert refused.value.messages == ["this video has 1 anomalous interval; marking it normal deletes it: confirm to go on"]
    video.refresh_from_db()
    assert video.label == "anomalous" and LabelInterval.objects.count() == 1


@pytest.mark.parametrize("label", ["normal", "unlabelled"])
def test_with_consent_the_intervals_go_and_the_label_is_saved(video, boat, analyst, label):
    labelling.add_interval(video, 9, 12, "", analyst)
    labelling.set_video_label(video, label, analyst, discard_intervals=True)
    video.refresh_from_db()
    assert video.label == label and not LabelInterval.objects.exists()


def test_a_video_without_intervals_is_marked_normal_at_once(video, analyst):
    labelling.set_video_label(video, "normal", analyst)
    assert Video.objects.get().label == "normal"


def test_the_label_endpoint_answers_409_and_keeps_everything_until_confirmed(video, boat, analyst):
    url = reverse("video_label", args=[video.pk])
    refused = post_json(login(analyst), url, {"label": "normal"})
    assert refused.status_code == 409
    assert refused.json()["needs_confirm"] is True and refused.json()["interval_count"] == 1
    assert LabelInterval.objects.count() == 1 and Video.objects.get().label == "anomalous"
    # Only a JSON true is consent: a string "false" (truthy in Python) is not.
    assert post_json(login(analyst), url, {"label": "normal", "discard_intervals": "false"}).status_code == 409
    done = post_json(login(analyst), url, {"label": "normal", "discard_intervals": True})
    assert done.status_code == 200 and done.json()["label"] == "normal"
    assert done.json()["status"].startswith("Labelled normal by anna, ")
    assert not LabelInterval.objects.exists()


def test_the_api_refuses_to_mark_normal_a_video_with_intervals(video, boat, analyst):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(analyst)
    response = client.patch(reverse("api_video", args=[video.pk]), {"label": "normal"}, format="json")
    assert response.status_code == 400 and "1 anomalous interval" in json.dumps(response.json())
    assert Video.objects.get().label == "anomalous" and LabelInterval.objects.count() == 1


@pytest.mark.parametrize(
    ("label", "by", "expected"),
    [
        ("unlabelled", False, "Not labelled yet."),
        ("anomalous", False, "Labelled anomalous (imported; no labeller recorded)."),
        ("normal", True, "Labelled normal by anna, "),
    ],
)
def test_the_status_sentence_always_agrees_with_the_label(video, analyst, label, by, expected):
    if by:
        labelling.set_video_label(video, label, analyst)
    else:
        Video.objects.filter(pk=video.pk).update(label=label)  # as an import or an old row leaves it
    video.refresh_from_db()
    assert labelling.label_status(video).startswith(expected)


def test_the_video_page_never_says_not_labelled_beside_a_label(video, analyst):
    Video.objects.filter(pk=video.pk).update(label="anomalous")
    html = login(analyst).get(video.get_absolute_url()).content.decode()
    assert 'data-label="anomalous" aria-pressed="true"' in html
    assert "Not labelled yet" not in html and "Labelled anomalous (imported" in html


def test_an_interval_is_edited_by_the_same_rules_as_a_new_one(video, boat, analyst):
    url = reverse("interval_update", args=[boat.pk])
    response = post_json(login(analyst), url, {"start": 2.5, "end": 8, "anomaly_class": " person "})
    assert response.status_code == 200
    assert response.json()["interval"] | {"created": None} == {
        "id": boat.pk, "start": 2.5, "end": 8.0, "anomaly_class": "person", "created_by": "anna", "created": None}
    boat.refresh_from_db()
    assert (boat.start, boat.end, boat.anomaly_class) == (2.5, 8.0, "person")


def test_editing_only_the_class_keeps_the_times(video, boat, analyst):
    assert post_json(login(analyst), reverse("interval_update", args=[boat.pk]), {"anomaly_class": "oil"}).status_code == 200
    boat.refresh_from_db()
    assert (boat.start, boat.end, boat.anomaly_class) == (3.0, 7.0, "oil")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"end": 2}, "end 2.00s must come after start 3.00s"),
        ({"start": 5, "end": 30}, "end 30.00s is past the end of the video (20.00s)"),
        ({"anomaly_class": 5}, "class must be text, not 5"),
        ({"anomaly_class": "x" * 61}, "class must be at most 60 characters"),
    ],
)
def test_a_bad_edit_is_refused_with_its_reason_and_changes_nothing(video, boat, analyst, body, message):
    response = post_json(login(analyst), reverse("interval_update", args=[boat.pk]), body)
    assert response.status_code == 400 and response.json()["error"] == message
    boat.refresh_from_db()
    assert (boat.start, boat.end, boat.anomaly_class) == (3.0, 7.0, "boat")


def test_viewers_and_outsiders_cannot_edit_an_interval(video, boat, viewer, outsider):
    url = reverse("interval_update", args=[boat.pk])
    assert post_json(login(viewer), url, {"anomaly_class": "oil"}).status_code == 403
    assert post_json(login(outsider), url, {"anomaly_class": "oil"}).status_code in (403, 404)
    assert LabelInterval.objects.get().anomaly_class == "boat"


def test_update_interval_raises_for_a_reversed_interval(video, boat):
    with pytest.raises(ValidationError):
        labelling.update_interval(boat, 6, 4, "")


def test_classes_offered_are_the_defaults_then_the_areas_own_by_use(video, analyst, mission):
    other = Video.objects.create(mission=mission, original_name="pass-2.mp4", duration=20.0)
    for v, name in ((video, "kayak"), (other, "kayak"), (other, "seal"), (video, "boat")):
        labelling.add_interval(v, 1, 2, name, analyst)
    assert labelling.class_choices(video) == ["boat", "person", "vehicle", "debris", "oil", "kayak", "seal"]
