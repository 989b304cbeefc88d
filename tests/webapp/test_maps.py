"""Maps: event ground positions, the mission map and the area map, mosaic tiles and (re)building the mosaic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from detection.mapping.camera import CameraModel, ground_latlon
from detection.mapping.pyramid import save_pyramid
from detection.telemetry import GeoOrigin, PoseTable
from tests.support.maps import attach_poses, save_level_pyramid, straight_flight
from tests.support.seed import make_mission, make_user, seed_scored_video
from tests.support.teams import give_role
from webapp.accounts.models import Team
from webapp.catalog.models import Area, Video
from webapp.detectors.models import Event
from webapp.jobs.models import Job
from webapp.maps.locate import locate_events
from webapp.maps.mosaics import current_mosaic, refresh_mosaic

pytestmark = pytest.mark.django_db
MARKER_MEDIAN_M, MARKER_MAX_M = 2.0, 5.0  # stated: an event's marker within 5 m of its object (a boat's length)


@pytest.fixture
def people():
    return {role: make_user(role, role) for role in ("viewer", "analyst")} | {"outsider": make_user("nobody", None)}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def embedded(html: str, element_id: str):
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html, re.S).group(1))


@pytest.fixture
def flown():
    """A scored 60 s video (two anomalies) with a straight eastward flight's telemetry, events located."""
    seeded = seed_scored_video(make_mission(), anomalies=((10.0, 14.0, "boat"), (40.0, 45.0, "person")), seed=3)
    video = attach_poses(seeded.video, straight_flight(60.0))
    locate_events(Event.objects.filter(score_run__video=video).select_related("score_run__video__mission__area"))
    return video


def test_an_event_is_placed_at_its_heatmap_peak_seen_from_the_drone(flown):
    event = Event.objects.filter(score_run__video=flown).first()
    poses = PoseTable.load(Path(settings.MEDIA_ROOT) / flown.poses_path)
    camera = CameraModel.for_frame(flown.width, flown.height, flown.mission.area.camera_hfov_degrees)
    latitude, longitude = ground_latlon(poses.at([event.peak_time]), event.peak_x, event.peak_y, camera)
    assert (event.latitude, event.longitude) == pytest.approx((latitude[0], longitude[0]), abs=1e-9)
    # By hand: heading east at 8 m/s from 18.88°E; the peak's frame offset turns with the heading.
    east, north = GeoOrigin(59.42, 18.88).to_metres(event.latitude, event.longitude)
    half = 60.0 * np.tan(np.radians(82.1 / 2))  # half the footprint's width at 60 m
    assert east == pytest.approx(8.0 * event.peak_time + (0.5 - event.peak_y) * 2 * half, abs=0.01)
    assert north == pytest.approx(-(event.peak_x - 0.5) * 2 * half, abs=0.01)


def test_events_of_a_video_without_telemetry_stay_unplaced():
    seeded = seed_scored_video(make_mission(), seed=1)
    assert locate_events(Event.objects.filter(score_run__video=seeded.video)) == 0
    assert not Event.objects.filter(latitude__isnull=False).exists()


def test_an_events_marker_lands_within_the_stated_error_of_its_object(patrol_tiny_set):
    """A generated flight's objects as events peaking at their mask centres: each marker near the object."""
    from detection.synth.groundtruth import load_groundtruth
    from detection.telemetry import read_telemetry
    from webapp.maps.payload import mission_map_payload

    truth = load_groundtruth(patrol_tiny_set / "day02" / "patrol.mp4")
    seeded = seed_scored_video(make_mission(), seconds=4.0, anomalies=(), seed=2)
    video = attach_poses(seeded.video, read_telemetry(patrol_tiny_set / "day02" / "patrol.SRT"), width=320, height=180)
    run = seeded.runs["cae"]
    box = truth.object_box
    whole = (box[:, 0] > 0) & (box[:, 1] > 0) & (box[:, 2] < 320) & (box[:, 3] < 180)
    rows = np.nonzero(whole)[0]
    events = Event.objects.bulk_create(
        Event(score_run=run, start=0.0, end=4.0, peak_time=truth.object_frame[i] / truth.fps, peak_score=1.0,
              level=2.0, peak_x=(box[i, 0] + box[i, 2]) / 2 / 320, peak_y=(box[i, 1] + box[i, 3]) / 2 / 180)
        for i in rows)
    assert locate_events(Event.objects.filter(pk__in=[e.pk for e in events]).select_related(
        "score_run__video__mission__area")) == len(rows) >= 5
    payload = mission_map_payload(video.mission, list(Event.objects.filter(pk__in=[e.pk for e in events])
                                                      .select_related("score_run__video__mission", "score_run__detector")
                                                      .order_by("pk")))
    origin = GeoOrigin(*payload["origin"])
    want_east, want_north = origin.to_metres(truth.object_latlon[rows, 0], truth.object_latlon[rows, 1])
    markers = sorted(payload["events"], key=lambda m: m["id"])
    errors = np.hypot(np.array([m["x"] for m in markers]) - want_east, np.array([m["y"] for m in markers]) - want_north)
    assert np.median(errors) < MARKER_MEDIAN_M and errors.max() < MARKER_MAX_M


def test_the_mission_map_draws_the_track_and_links_each_marker_to_its_review_moment(people, flown):
    html = client_for(people["viewer"]).get(reverse("mission_map", args=[flown.mission.pk])).content.decode()
    data = embedded(html, "map-data")
    (track,) = data["tracks"]
    assert track["video"] == flown.pk and len(track["t"]) == len(track["x"]) == 121
    assert track["x"][-1] == pytest.approx(480.0, abs=0.2) and track["y"][-1] == pytest.approx(0.0, abs=0.1)
    events = Event.objects.filter(score_run__video=flown)
    assert len(data["events"]) == events.count() >= 2 and data["unplaced"] == 0
    marker = data["events"][0]
    event = events.get(pk=marker["id"])
    assert marker["url"] == f"{reverse('video_review', args=[flown.pk])}?event={event.pk}&t={event.peak_time:.2f}"
    assert marker["review"] == "unreviewed" and marker["colour"].startswith("#")
    assert data["mosaic"] is None and "No area mosaic yet" in html


def test_the_mission_map_is_another_teams_not_found(people, flown):
    response = client_for(people["outsider"]).get(reverse("mission_map", args=[flown.mission.pk]))
    assert response.status_code in (403, 404)


def test_a_mission_without_telemetry_says_there_is_nothing_to_place(people):
    seeded = seed_scored_video(make_mission(), seed=5)
    html = client_for(people["viewer"]).get(reverse("mission_map", args=[seeded.video.mission.pk])).content.decode()
    assert "has telemetry: there is nothing to place" in html
    assert embedded(html, "map-data")["unplaced"] == Event.objects.filter(score_run__video=seeded.video).count()


def test_the_area_map_shows_confirmed_events_filtered_by_date_and_class(people, flown):
    events = list(Event.objects.filter(score_run__video=flown).order_by("peak_time"))
    assert len(events) >= 2
    Event.objects.filter(pk__in=[e.pk for e in events]).update(review=Event.Review.CONFIRMED)
    Event.objects.filter(pk=events[0].pk).update(anomaly_class="boat")
    dismissed = Event.objects.create(score_run=events[0].score_run, start=1.0, end=2.0, peak_time=1.5, peak_score=1.0,
                                     review=Event.Review.DISMISSED, latitude=59.42, longitude=18.88)
    client = client_for(people["viewer"])
    url = reverse("area_map", args=[flown.mission.area.pk])
    data = embedded(client.get(url).content.decode(), "map-data")
    assert sorted(m["id"] for m in data["events"]) == sorted(e.pk for e in events)
    assert dismissed.pk not in [m["id"] for m in data["events"]]
    boats = embedded(client.get(url, {"class": "boat"}).content.decode(), "map-data")["events"]
    assert [(m["id"], m["class"]) for m in boats] == [(events[0].pk, "boat")]
    unclassified = embedded(client.get(url, {"class": "unclassified"}).content.decode(), "map-data")["events"]
    assert sorted(m["id"] for m in unclassified) == sorted(e.pk for e in events[1:])
    assert embedded(client.get(url, {"from": "2026-06-02"}).content.decode(), "map-data")["events"] == []
    assert len(embedded(client.get(url, {"to": "2026-06-01"}).content.decode(), "map-data")["events"]) == len(events)
    bad = client.get(url, {"from": "June", "class": "whale"})
    assert bad.status_code == 200 and "must be YYYY-MM-DD" in bad.content.decode()
    assert "has the class &#x27;whale&#x27;" in bad.content.decode()


def save_mosaic_job(video: Video, origin: GeoOrigin | None = GeoOrigin(59.42, 18.88), save=save_pyramid) -> Job:
    """A succeeded mosaic job of `video` with a real (tiny) mosaic on disk (in route coordinates when `origin`
    is None), stored by `save`."""
    from detection.mapping.mosaic import Mosaic

    job = Job.objects.create(kind=Job.Kind.MOSAIC, video=video, state=Job.State.SUCCEEDED)
    folder = f"areas/{video.mission.area_id}/mosaics/{job.pk}"
    image = np.full((600, 900, 3), 90, np.uint8)
    mosaic = Mosaic(image, np.ones((600, 900), bool), origin, 0.5, (-100.0, -150.0),
                    np.zeros((2, 4)), {"resolution": 0.5, "drift_m": 1.5})
    save(mosaic, Path(settings.MEDIA_ROOT) / folder)
    Job.objects.filter(pk=job.pk).update(result={"folder": folder})
    job.refresh_from_db()
    return job


def test_the_maps_draw_the_areas_mosaic_under_the_tracks_from_its_tiles(people, flown):
    job = save_mosaic_job(flown)
    client = client_for(people["viewer"])
    data = embedded(client.get(reverse("mission_map", args=[flown.mission.pk])).content.decode(), "map-data")
    assert data["origin"] == [59.42, 18.88]
    layer = data["mosaic"]
    assert (layer["x"], layer["y"], layer["width"], layer["height"]) == (-100.0, 150.0, 450.0, 300.0)
    # 900x600 px halves to 450x300 and 225x150 (one tile); the page asks for tiles by level/x/y.
    assert layer["tiles"] == {"url": f"/areas/{flown.mission.area.pk}/mosaics/{job.pk}/tiles/", "size": 256,
                              "levels": [[900, 600], [450, 300], [225, 150]]}
    assert "url" not in layer
    assert job.output_url == reverse("area_map", args=[flown.mission.area.pk]) and job.output_label == "Area map"


def tile_url(job: Job, level: int, x: int, y: int) -> str:
    return reverse("mosaic_tile", args=[job.video.mission.area_id, job.pk, level, x, y])


def test_a_tile_is_served_to_whoever_sees_the_area_and_to_no_one_else(people, flown):
    job = save_mosaic_job(flown)
    client = client_for(people["viewer"])
    tile = client.get(tile_url(job, 0, 3, 2))  # the bottom-right corner: 900 - 768 by 600 - 512 px
    assert tile.status_code == 200 and tile["Content-Type"] == "image/jpeg"
    assert tile["Cache-Control"] == "private, max-age=86400"
    image = cv2.imdecode(np.frombuffer(b"".join(tile.streaming_content), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (88, 132, 3)
    for missing in ((0, 4, 0), (0, 0, 3), (2, 1, 0), (3, 0, 0)):  # past the edge of a level; no level 3
        assert client.get(tile_url(job, *missing)).status_code == 404, missing
    (Path(settings.MEDIA_ROOT) / job.result["folder"] / "tiles" / "1" / "0" / "0.jpg").unlink()
    assert client.get(tile_url(job, 1, 0, 0)).status_code == 404  # a tile file gone
    team = Team.objects.create(name="South team")
    stranger = make_user("sven", None)
    give_role(stranger, "analyst", team)
    for other in (people["outsider"], stranger):
        assert client_for(other).get(tile_url(job, 0, 0, 0)).status_code in (403, 404)
    # Another area's job through this area's URL, and a job that is not a built mosaic.
    elsewhere = Area.objects.create(name="South reef", team=team)
    assert client.get(reverse("mosaic_tile", args=[elsewhere.pk, job.pk, 0, 0, 0])).status_code in (403, 404)
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED)
    assert client.get(tile_url(job, 0, 0, 0)).status_code == 404


def test_a_mosaic_stored_before_tiles_is_still_drawn_as_one_level(people, flown):
    job = save_mosaic_job(flown, save=save_level_pyramid)
    client = client_for(people["viewer"])
    layer = embedded(client.get(reverse("mission_map", args=[flown.mission.pk])).content.decode(), "map-data")["mosaic"]
    assert layer["url"] == reverse("mosaic_level", args=[flown.mission.area.pk, job.pk, 0]) and "tiles" not in layer
    image = client.get(layer["url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:2] == b"\xff\xd8"
    assert client.get(reverse("mosaic_level", args=[flown.mission.area.pk, job.pk, 9])).status_code == 404
    assert client.get(tile_url(job, 0, 0, 0)).status_code == 404
    assert client_for(people["outsider"]).get(layer["url"]).status_code in (403, 404)
    tiled = save_mosaic_job(flown)  # and a tiled mosaic has no whole levels to serve
    assert client.get(reverse("mosaic_level", args=[flown.mission.area.pk, tiled.pk, 0])).status_code == 404


def test_a_mosaic_in_route_coordinates_is_not_drawn_under_the_tracks(people, flown):
    save_mosaic_job(flown, origin=None)
    html = client_for(people["viewer"]).get(reverse("mission_map", args=[flown.mission.pk])).content.decode()
    data = embedded(html, "map-data")
    assert data["mosaic"] is None and data["route_mosaic"] and "it is in route coordinates" in html
    assert data["origin"] == pytest.approx([59.42, 18.88]) and len(data["tracks"]) == 1  # the flight's own origin


def test_an_analyst_builds_the_mosaic_from_the_reference_flight_and_a_viewer_may_not(people, flown):
    Video.objects.filter(pk=flown.pk).update(label=Video.Label.NORMAL)
    url = reverse("area_mosaic_build", args=[flown.mission.area.pk])
    assert client_for(people["viewer"]).post(url).status_code == 403
    response = client_for(people["analyst"]).post(url, {"back": reverse("mission_map", args=[flown.mission.pk])})
    assert response.status_code == 302 and response["Location"] == reverse("mission_map", args=[flown.mission.pk])
    job = Job.objects.get(kind=Job.Kind.MOSAIC)
    assert job.video_id == flown.pk and job.state == Job.State.QUEUED
    client_for(people["analyst"]).post(url)
    assert Job.objects.filter(kind=Job.Kind.MOSAIC).count() == 1  # the one under way is reused


def test_an_area_without_a_reference_flight_is_told_why_there_is_no_mosaic(people, flown):
    response = client_for(people["analyst"]).post(reverse("area_mosaic_build", args=[flown.mission.area.pk]),
                                                   follow=True)
    assert "no reference flight yet" in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.MOSAIC).exists()


def test_a_new_reference_flight_rebuilds_an_existing_mosaic(people, flown):
    Video.objects.filter(pk=flown.pk).update(label=Video.Label.NORMAL)
    save_mosaic_job(flown)
    area = flown.mission.area
    assert current_mosaic(area).video.pk == flown.pk and refresh_mosaic(area) is None
    other = attach_poses(seed_scored_video(flown.mission, name="later.mp4", seed=8, label=Video.Label.NORMAL).video,
                         straight_flight(60.0))
    response = client_for(people["analyst"]).post(reverse("video_reference", args=[other.pk]), {"pinned": "1"})
    assert response.status_code == 302
    rebuild = Job.objects.get(kind=Job.Kind.MOSAIC, state=Job.State.QUEUED)
    assert rebuild.video_id == other.pk


def test_the_maps_outline_the_areas_ground_masks(people, flown):
    from webapp.catalog.models import AreaMask

    area = flown.mission.area
    corners = [[59.4201, 18.8805], [59.4201, 18.8810], [59.4204, 18.8810]]
    AreaMask.objects.create(area=area, name="jetty", space=AreaMask.Space.GROUND, points=corners)
    AreaMask.objects.create(area=area, name="frame only", points=[[0, 0], [0.5, 0], [0.5, 1]])
    client = client_for(people["viewer"])
    for url in (reverse("area_map", args=[area.pk]), reverse("mission_map", args=[flown.mission.pk])):
        data = embedded(client.get(url).content.decode(), "map-data")
        [mask] = data["masks"]
        origin = GeoOrigin(*data["origin"])
        east, north = origin.to_metres(59.4201, 18.8805)
        assert mask["name"] == "jetty" and len(mask["x"]) == 4 and mask["x"][0] == mask["x"][-1]
        assert (mask["x"][0], mask["y"][0]) == pytest.approx((east, north), abs=0.1)
