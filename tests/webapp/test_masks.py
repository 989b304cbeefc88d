"""The area's masks endpoint: analysts draw, viewers look, bad polygons get their reason, the share is shown."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
    assert gone.status_code == 200 and gone.json() == {"masks": [], "masked_share": 0.0, "ground_share": None}
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


# --- masks fixed to the ground ----------------------------------------------------------------------------------

BOX = [[0.6, 0.3], [0.8, 0.3], [0.8, 0.5], [0.6, 0.5]]


def drawing_flight(area) -> Video:
    """A ready reference flight with a poster and a nadir flight due east (yaw 90) at 60 m, 1280x720."""
    from tests.support.maps import attach_poses, straight_flight

    video = Video.objects.create(mission=area.missions.first(), original_name="dawn.mp4", file="videos/1/o.mp4",
                                 status=Video.Status.READY, label=Video.Label.NORMAL, duration=60.0)
    poster = Path(settings.MEDIA_ROOT) / video.poster_path
    poster.parent.mkdir(parents=True, exist_ok=True)
    poster.write_bytes(b"\xff\xd8\xff\xd9")
    return attach_poses(video, straight_flight(60.0), width=1280, height=720)


def northward_flight(area, over) -> Video:
    """Another day's flight due north (yaw 0) at 70 m, passing over ground point `over` (lat, lon) at 20 s."""
    from detection.telemetry import PoseTable
    from tests.support.maps import attach_poses

    times = np.arange(0.0, 40.5, 0.5)
    latitude = over[0] + np.degrees(7.0 * (times - 20.0) / 6_371_008.8)
    poses = PoseTable.from_columns(times, latitude, np.full(len(times), over[1] + 0.0002), rel_alt=np.full(len(times), 70.0),
                                   yaw=np.zeros(len(times)), pitch=np.full(len(times), -90.0))
    video = Video.objects.create(mission=area.missions.first(), original_name="noon.mp4", file="videos/2/o.mp4",
                                 status=Video.Status.READY, duration=40.0)
    return attach_poses(video, poses, width=1280, height=720)


def test_a_mask_fixed_to_the_ground_drops_the_event_at_that_place_on_a_flight_flown_another_way(client, area):
    from types import SimpleNamespace

    from detection.mapping.camera import CameraModel, frame_points, ground_latlon
    from detection.types import DetectedEvent, SampledFrames, VideoScores
    from tests.support.seed import make_detector
    from webapp.catalog import telemetry
    from workers.scoring import store_scores

    drawn_on = drawing_flight(area)
    client.force_login(make_user("ana", "analyst"))
    response = post(client, reverse("area_masks", args=[area.pk]), {"points": BOX, "name": "marina", "on_ground": True})
    assert response.status_code == 201, response.content
    mask = response.json()["mask"]
    assert mask["space"] == "ground" and AreaMask.objects.get().space == "ground"
    np.testing.assert_allclose(mask["frame_points"], BOX, atol=1e-4)  # drawn back where the analyst drew it
    # the marina's centre on the ground, seen from the poster frame (6 s into the 60 s flight)
    camera = CameraModel.for_frame(1280, 720)
    centre = ground_latlon(telemetry.load_poses(drawn_on).at([6.0]), 0.7, 0.4, camera)
    today = northward_flight(area, (float(centre[0][0]), float(centre[1][0])))
    x, y = frame_points(telemetry.load_poses(today).at([20.0]), centre[0], centre[1], camera)
    assert np.hypot(x[0] - 0.7, y[0] - 0.4) > 0.15, "the other heading sees the marina elsewhere in its frame"
    at_marina = DetectedEvent(19.0, 21.0, 20.0, 3.0, peak_x=float(x[0]), peak_y=float(y[0]))
    where_drawn = DetectedEvent(29.0, 31.0, 30.0, 3.0, peak_x=0.7, peak_y=0.4)  # another place of the ground
    times = np.arange(0.0, 40.0, 0.5)
    scores = VideoScores(times=times, frame_scores=np.ones(len(times), np.float32), threshold=0.5,
                         events=(at_marina, where_drawn))
    frames = SampledFrames(np.zeros((len(times), 4, 4, 3), np.uint8), times)
    run = store_scores(make_detector(area, "cae"), today, SimpleNamespace(), frames, scores)
    assert [e.peak_time for e in run.events.all()] == [30.0]


def test_a_ground_mask_needs_a_drawing_flight_with_telemetry_and_spares_flights_without(client, area):
    from webapp.catalog.masks import video_masks

    video = Video.objects.create(mission=area.missions.first(), original_name="dawn.mp4", file="videos/1/o.mp4",
                                 status=Video.Status.READY, label=Video.Label.NORMAL, duration=60.0)
    poster = Path(settings.MEDIA_ROOT) / video.poster_path
    poster.parent.mkdir(parents=True, exist_ok=True)
    poster.write_bytes(b"\xff\xd8\xff\xd9")
    client.force_login(make_user("ana", "analyst"))
    response = post(client, reverse("area_masks", args=[area.pk]), {"points": BOX, "on_ground": True})
    assert response.status_code == 400 and "no telemetry" in response.json()["error"]
    lat, lon = 59.42, 18.88
    ground = [[lat, lon], [lat, lon + 0.001], [lat + 0.001, lon + 0.001]]
    assert post(client, reverse("area_masks", args=[area.pk]), {"ground_points": ground}).status_code == 201
    bad = post(client, reverse("area_masks", args=[area.pk]), {"ground_points": [[95, 0], [0, 1], [1, 1]]})
    assert bad.status_code == 400 and "place on Earth" in bad.json()["error"]
    assert video_masks(video) == ([], None), "a flight without telemetry has no pose to project a ground mask with"
    state = client.get(reverse("area_masks", args=[area.pk])).json()
    assert state["masks"][0]["frame_points"] is None and state["ground_share"] is None


def test_the_area_page_shows_the_share_of_a_frame_the_ground_masks_cover(client, area):
    drawing_flight(area)
    client.force_login(make_user("ana", "analyst"))
    response = post(client, reverse("area_masks", args=[area.pk]), {"points": BOX, "on_ground": True})
    share = response.json()["ground_share"]
    # a 0.2 x 0.2 box of one frame; a flight east at 8 m/s passes over it in a few seconds of 60
    assert share["video"] == "dawn.mp4" and share["max"] == pytest.approx(0.04, abs=0.01) and share["mean"] < 0.01
    page = client.get(reverse("area", args=[area.pk])).content.decode()
    assert 'id="mask-ground" checked' in page and "With the ground masks, they cover" in page
