"""The area's masks endpoint: analysts draw, viewers look, bad polygons get their reason, the share is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.support.seed import make_mission, make_user
from webapp.catalog.masks import area_polygons
from webapp.catalog.models import AreaMask, Video

pytestmark = pytest.mark.django_db

LEFT_HALF = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]


@pytest.fixture
def area():
    return make_mission().area


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_an_analyst_draws_and_deletes_a_mask_and_sees_the_share(client, area):
    client.force_login(make_user("ana", "analyst"))
    response = post(client, reverse("area_masks", args=[area.pk]), {"points": LEFT_HALF, "name": "marina"})
    assert response.status_code == 201
    data = response.json()
    assert data["mask"]["name"] == "marina" and data["masked_share"] == pytest.approx(0.5)
    assert area_polygons(area.pk) == [[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]]
    assert client.get(reverse("area_masks", args=[area.pk])).json()["masks"][0]["points"] == LEFT_HALF
    gone = client.post(reverse("area_mask_delete", args=[area.pk, data["mask"]["id"]]))
    assert gone.status_code == 200 and gone.json() == {"masks": [], "masked_share": 0.0}
    assert client.post(reverse("area_mask_delete", args=[area.pk, data["mask"]["id"]])).status_code == 404


@pytest.mark.parametrize("body, reason", [
    ({"points": [[0, 0], [1, 1]]}, "3 to"), ({"points": [[0, 0], [2, 0], [0, 1]]}, "outside the frame"),
    ({}, "list of"), ({"points": LEFT_HALF, "name": "x" * 121}, "at most 120"),
])
def test_a_bad_mask_is_refused_with_its_reason(client, area, body, reason):
    client.force_login(make_user("ana", "analyst"))
    response = post(client, reverse("area_masks", args=[area.pk]), body)
    assert response.status_code == 400 and reason in response.json()["error"]
    assert not AreaMask.objects.exists()


def test_a_viewer_sees_masks_but_cannot_draw(client, area):
    client.force_login(make_user("vera", "viewer"))
    assert post(client, reverse("area_masks", args=[area.pk]), {"points": LEFT_HALF}).status_code == 403
    assert client.get(reverse("area_masks", args=[area.pk])).status_code == 200


def test_the_area_page_offers_the_editor_on_a_ready_videos_poster(client, area):
    client.force_login(make_user("ana", "analyst"))
    assert "No ready video with a poster" in client.get(reverse("area", args=[area.pk])).content.decode()
    video = Video.objects.create(mission=area.missions.first(), original_name="dawn.mp4", file="videos/1/o.mp4",
                                 status=Video.Status.READY, label=Video.Label.NORMAL)
    poster = Path(settings.MEDIA_ROOT) / video.poster_path
    poster.parent.mkdir(parents=True, exist_ok=True)
    poster.write_bytes(b"\xff\xd8\xff\xd9")
    AreaMask.objects.create(area=area, points=LEFT_HALF)
    page = client.get(reverse("area", args=[area.pk])).content.decode()
    assert 'id="mask-editor"' in page and reverse("video_media", args=[video.pk, "poster.jpg"]) in page
    assert 'id="masked-share">50%' in page
