"""CHANGE detectors' reference flights: the automatic set, pinning from the video page, and the train form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.webapp.catalog_actors import *  # noqa: F403
from tests.webapp.catalog_actors import login
from webapp.catalog.models import Mission, Video
from webapp.catalog.references import reference_set
from webapp.detectors.models import Detector

pytestmark = pytest.mark.django_db


def flight(area, day: int, name: str, **fields) -> Video:
    mission, _ = Mission.objects.get_or_create(area=area, name=f"Day {day}", defaults={"date": dt.date(2026, 5, day)})
    values = {"status": Video.Status.READY, "label": Video.Label.NORMAL, **fields}
    return Video.objects.create(mission=mission, original_name=name, **values)


def test_the_reference_set_is_the_pinned_flights_then_the_most_recent_normal_ones(area):
    old, mid, new = flight(area, 1, "old.mp4"), flight(area, 2, "mid.mp4"), flight(area, 3, "new.mp4")
    pinned = flight(area, 1, "pinned.mp4", label=Video.Label.UNLABELLED, reference_pinned=True)
    flight(area, 4, "boat.mp4", label=Video.Label.ANOMALOUS)
    flight(area, 4, "unlabelled.mp4", label=Video.Label.UNLABELLED)
    flight(area, 5, "held-out.mp4", split=Video.Split.TEST)
    flight(area, 5, "validation.mp4", split=Video.Split.VAL)
    flight(area, 6, "ingesting.mp4", status=Video.Status.INGESTING)
    assert reference_set(area, 3) == [pinned, new, mid]
    assert reference_set(area, 10) == [pinned, new, mid, old]
    assert reference_set(area, 1) == [pinned]


def test_an_analyst_pins_and_unpins_a_reference_flight(analyst, area):
    video = flight(area, 1, "calm.mp4", label=Video.Label.UNLABELLED)
    client = login(analyst)
    response = client.post(reverse("video_reference", args=[video.pk]), {"pinned": "1"})
    assert response.status_code == 302 and response["Location"] == video.get_absolute_url()
    video.refresh_from_db()
    assert video.reference_pinned
    page = client.get(video.get_absolute_url()).content.decode()
    assert "Unpin as reference flight" in page
    area_page = client.get(area.get_absolute_url()).content.decode()
    assert f'data-reference="{video.pk}"' in area_page and "pinned" in area_page
    response = client.post(reverse("video_reference", args=[video.pk]), {"pinned": "0", "back": "area"})
    assert response["Location"] == area.get_absolute_url()
    video.refresh_from_db()
    assert not video.reference_pinned


def test_it_refuses_to_pin_an_anomalous_or_held_out_flight(analyst, area):
    boat = flight(area, 1, "boat.mp4", label=Video.Label.ANOMALOUS)
    held_out = flight(area, 1, "test.mp4", split=Video.Split.TEST)
    client = login(analyst)
    for video in (boat, held_out):
        page = client.post(reverse("video_reference", args=[video.pk]), {"pinned": "1"}, follow=True)
        assert "never a reference" in page.content.decode() or "must be normal" in page.content.decode()
        video.refresh_from_db()
        assert not video.reference_pinned


def test_viewers_and_other_teams_cannot_pin(viewer, outsider, area):
    video = flight(area, 1, "calm.mp4")
    assert login(viewer).post(reverse("video_reference", args=[video.pk]), {"pinned": "1"}).status_code == 403
    assert login(outsider).post(reverse("video_reference", args=[video.pk]), {"pinned": "1"}).status_code in (403, 404)
    assert "Pin as reference flight" not in login(viewer).get(video.get_absolute_url()).content.decode()
    video.refresh_from_db()
    assert not video.reference_pinned


def test_the_train_form_offers_change_first_and_keeps_its_reference_count(admin, area):
    page = login(admin).get(area.get_absolute_url()).content.decode()
    assert '<option value="change" selected>Change against earlier flights</option>' in page
    assert 'name="references"' in page
    login(admin).post(reverse("area_train", args=[area.pk]), {"kind": "change", "references": "3", "epochs": "9"})
    detector = Detector.objects.get(area=area, kind=Detector.Kind.CHANGE)
    assert detector.config == {"references": 3}, "CHANGE trains no network: no epochs"
    assert detector.reference_count == 3 and detector.trainer_overrides() == {}
    login(admin).post(reverse("area_train", args=[area.pk]), {"kind": "change", "name": "Default"})
    assert Detector.objects.get(name="Default").reference_count == 6


def test_the_detector_page_lists_the_flights_a_change_detector_was_trained_against(viewer, area):
    references = [flight(area, 1, "calm-1.mp4"), flight(area, 2, "calm-2.mp4", reference_pinned=True)]
    detector = Detector.objects.create(area=area, kind=Detector.Kind.CHANGE, name="Change v1",
                                       status=Detector.Status.READY, threshold=0.5)
    detector.reference_videos.set(references)
    page = login(viewer).get(detector.get_absolute_url()).content.decode()
    assert "compared with" in page and "2 reference flights" in page
    for video in references:
        assert f'data-reference="{video.pk}"' in page
    assert "Reconstructions of the fixed batch" not in page
