"""Masks drawn on the area map: corners in map metres land on the ground where the map's markers say, the mask
then drops the events at that place when scoring, and bad drawings, a missing or rebuilt mosaic and read-only
users are refused with their reason."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from detection.masks import drop_masked, inside
from detection.types import DetectedEvent
from tests.support.area_mosaic import flown_patrol, save_area_mosaic, write_poster
from tests.support.seed import make_user
from webapp.catalog.masks import video_masks
from webapp.catalog.models import AreaMask
from webapp.detectors.models import Event
from webapp.maps.drawing import NO_MOSAIC, first_crossing
from webapp.maps.payload import area_events, area_map_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def flown():
    return flown_patrol()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def embedded(html: str, element_id: str):
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html, re.S).group(1))


def draw(client, area, points, *, name="marina", mosaic=None):
    body = {"points": points, "name": name, "mosaic": mosaic}
    return client.post(reverse("area_map_mask", args=[area.pk]), json.dumps(body), content_type="application/json")


def square_around(x: float, y: float, half: float) -> list[list[float]]:
    return [[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half]]


def test_corners_drawn_in_map_metres_land_on_the_ground_where_the_markers_are(flown):
    job = save_area_mosaic(flown)
    area = flown.mission.area
    write_poster(flown)
    client = client_for(make_user("ana", "analyst"))
    payload = embedded(client.get(reverse("area_map", args=[area.pk])).content.decode(), "map-data")
    assert payload["mosaic"]["job"] == job.pk and payload["origin"] == [59.42, 18.88]
    first, second = sorted(payload["events"], key=lambda m: m["x"])[:2]
    drawn = [[round(a, 2), round(b, 2)] for a, b in square_around(first["x"], first["y"], 6.0)]

    response = draw(client, area, drawn, mosaic=job.pk)
    assert response.status_code == 201, response.content
    answer = response.json()
    mask = AreaMask.objects.get()
    assert mask.space == AreaMask.Space.GROUND and mask.name == "marina" and mask.created_by.username == "ana"
    # Round trip through the map's own transform: the stored corners are back at the drawn metres...
    page = area_map_payload(area, area_events(area))
    [outline] = page["masks"]
    assert answer["masks"] == page["masks"] and outline["id"] == mask.pk
    np.testing.assert_allclose(np.c_[outline["x"][:-1], outline["y"][:-1]], drawn, atol=0.05)
    # ...and the marker (placed from the event's latitude and longitude) lies inside the ground polygon.
    event = Event.objects.get(pk=first["id"])
    lat, lon = np.asarray(mask.points).T
    assert inside(np.array([event.longitude]), np.array([event.latitude]), list(zip(lon, lat)))[0]
    assert abs(mask.points[0][0] - event.latitude) < 1e-4 and abs(mask.points[0][1] - event.longitude) < 2e-4
    assert answer["inside"] == [event.pk] and second["id"] not in answer["inside"]
    assert answer["ground_share"]["video"] == flown.original_name and answer["ground_share"]["max"] > 0

    # Scoring drops that event's peak, seen from the drone at its time; not the other one's.
    other = Event.objects.get(pk=second["id"])
    detected = [DetectedEvent(e.start, e.end, e.peak_time, e.peak_score, peak_x=e.peak_x, peak_y=e.peak_y)
                for e in (event, other)]
    assert [e.peak_time for e in drop_masked(detected, *video_masks(flown))] == [other.peak_time]

    # The area page lists it with the other masks, on the ground, and the share of the frames they cover.
    html = client.get(reverse("area", args=[area.pk])).content.decode()
    state = embedded(html, "mask-data")
    assert [(m["name"], m["space"]) for m in state["masks"]] == [("marina", "ground")]
    assert "With the ground masks, they cover" in html


@pytest.mark.parametrize("points, reason", [
    ([[0, 0], [10, 0]], "3 to"),
    ([], "3 to"),
    ("here", "list of [east, north]"),
    ([[0, 0], [10, 0], "x"], "corner 3 is not an [east, north] pair"),
    ([[0, 0], [10, 0], [None, 4]], "corner 3 is not a pair of numbers"),
    ([[0, 0], [10, 0], [float("nan"), 4]], "corner 3 is not a pair of numbers"),
    ([[0, 0], [10, 0], [10, 250]], "corner 3 (10 m east, 250 m north) lies outside the area mosaic"),
    ([[0, 0], [600, 0], [10, 10]], "corner 2 (600 m east, 0 m north) lies outside"),
    ([[0, 0], [20, 20], [20, 0], [0, 20]], "edges 1–2 and 3–4 cross"),
    ([[0, 0], [10, 0], [20, 0]], "enclose no area"),
])
def test_a_bad_drawing_is_refused_with_its_reason(flown, points, reason):
    job = save_area_mosaic(flown)
    client = client_for(make_user("ana", "analyst"))
    response = client.post(reverse("area_map_mask", args=[flown.mission.area.pk]),
                           json.dumps({"points": points, "mosaic": job.pk}).replace("NaN", '"NaN"'),
                           content_type="application/json")
    assert response.status_code == 400 and reason in response.json()["error"], response.content
    assert not AreaMask.objects.exists()


def test_a_name_too_long_a_body_not_an_object_and_a_missing_mosaic_id_are_refused(flown):
    job = save_area_mosaic(flown)
    area = flown.mission.area
    client = client_for(make_user("ana", "analyst"))
    corners = square_around(100, 0, 10)
    assert "at most 120" in draw(client, area, corners, name="x" * 121, mosaic=job.pk).json()["error"]
    assert "which mosaic" in draw(client, area, corners).json()["error"]
    assert "which mosaic" in draw(client, area, corners, mosaic=True).json()["error"]
    bad = client.post(reverse("area_map_mask", args=[area.pk]), "[1, 2]", content_type="application/json")
    assert bad.status_code == 400 and "JSON object" in bad.json()["error"]
    assert client.get(reverse("area_map_mask", args=[area.pk])).status_code == 405
    assert not AreaMask.objects.exists()


def test_an_area_without_a_georeferenced_mosaic_has_nothing_to_draw_on(flown):
    area = flown.mission.area
    client = client_for(make_user("ana", "analyst"))
    corners = square_around(100, 0, 10)
    response = draw(client, area, corners, mosaic=1)
    assert response.status_code == 400 and response.json()["error"] == NO_MOSAIC
    html = client.get(reverse("area_map", args=[area.pk])).content.decode()
    assert 'id="mask-draw" disabled' in html and "this area has none yet: build it first" in html
    job = save_area_mosaic(flown, origin=None)
    response = draw(client, area, corners, mosaic=job.pk)
    assert response.status_code == 400 and "route coordinates" in response.json()["error"]
    assert "this one is in route coordinates" in client.get(reverse("area_map", args=[area.pk])).content.decode()
    assert not AreaMask.objects.exists()


def test_corners_drawn_before_the_mosaic_was_rebuilt_are_refused(flown):
    old = save_area_mosaic(flown)
    save_area_mosaic(flown)  # rebuilt: the newest succeeded job is the area's mosaic now
    response = draw(client_for(make_user("ana", "analyst")), flown.mission.area, square_around(100, 0, 10),
                    mosaic=old.pk)
    assert response.status_code == 409 and "reload the page" in response.json()["error"]
    assert not AreaMask.objects.exists()


def test_only_an_analyst_of_the_areas_team_may_draw(flown):
    job = save_area_mosaic(flown)
    area = flown.mission.area
    corners = square_around(100, 0, 10)
    viewer = client_for(make_user("vera", "viewer"))
    assert draw(viewer, area, corners, mosaic=job.pk).status_code == 403
    assert draw(client_for(make_user("nobody", None)), area, corners, mosaic=job.pk).status_code in (403, 404)
    html = viewer.get(reverse("area_map", args=[area.pk])).content.decode()
    assert 'id="mask-draw"' not in html and 'id="map-mask-list"' in html
    assert not AreaMask.objects.exists()
    analyst = client_for(make_user("ana", "analyst"))
    assert 'id="mask-draw" disabled' in analyst.get(reverse("area_map", args=[area.pk])).content.decode()
    anonymous = Client().post(reverse("area_map_mask", args=[area.pk]), "{}", content_type="application/json")
    assert anonymous.status_code in (302, 403)


def test_a_crossing_is_found_between_edges_that_are_not_neighbours():
    square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    assert first_crossing(square) is None
    assert first_crossing([(0, 0), (10, 10), (10, 0), (0, 10)]) == (0, 2)  # a bow tie
    assert first_crossing([(0, 0), (10, 0), (5, 0), (5, 5)]) == (0, 2)  # doubling back along an edge
    assert first_crossing([(0, 0), (10, 0), (10, 10), (5, 0), (0, 10)]) == (0, 2)  # a corner on another edge
    assert first_crossing([(0, 0), (10, 0), (10, 10), (6, 4), (4, 10), (0, 10)]) is None  # concave is fine
