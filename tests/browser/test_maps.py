"""In a real browser: the mission map over a generated patrol's mosaic; clicking an event's marker opens the
review page at that moment, zooming in loads the finer level's tiles in view, and the drone's marker follows the
player (screenshots kept in test-artifacts/)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from detection.mapping.mosaic import build_mosaic
from detection.mapping.pyramid import save_pyramid
from detection.synth.groundtruth import load_groundtruth
from detection.telemetry import read_telemetry
from detection.video.sampling import sample_frames
from tests.support.browser import launch, screenshot, wait_until
from tests.support.maps import attach_poses
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.catalog.models import Mission, Video
from webapp.detectors.models import Event
from webapp.jobs.models import Job
from webapp.maps.locate import locate_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The mosaic level has arrived (a finished resource entry) before a screenshot is taken.
MOSAIC_LOADED = ("performance.getEntriesByType('resource').some((e) => e.name.includes('/mosaics/') "
                 "&& e.responseEnd > 0)")


@pytest.fixture
def map_page(live_server, playwright):
    browser = launch(playwright)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_navigation_timeout(60_000)
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and page.problems.append(f"{r.status} {r.url}"))
    yield page
    context.close()
    browser.close()


@pytest.fixture
def patrol(patrol_tiny_set):
    """The area's mosaic from the generated day-1 flight, and the day-2 flight (its proxy the generated video)
    with an event at each object it shows: confirmed, dismissed or unreviewed, at several levels."""
    day1 = seed_scored_video(make_mission(name="day01"), name="day01.mp4", seconds=4.0, anomalies=(),
                             label=Video.Label.NORMAL, seed=1).video
    attach_poses(day1, read_telemetry(patrol_tiny_set / "day01" / "patrol.SRT"), width=320, height=180)
    sampled = sample_frames(patrol_tiny_set / "day01" / "patrol.mp4", fps=4, size=None)
    mosaic = build_mosaic(np.asarray(sampled.frames), sampled.times, read_telemetry(patrol_tiny_set / "day01" / "patrol.SRT"))
    job = Job.objects.create(kind=Job.Kind.MOSAIC, video=day1, state=Job.State.SUCCEEDED)
    folder = f"areas/{day1.mission.area_id}/mosaics/{job.pk}"
    save_pyramid(mosaic, Path(settings.MEDIA_ROOT) / folder)
    Job.objects.filter(pk=job.pk).update(result={"folder": folder})

    mission = Mission.objects.create(area=day1.mission.area, name="day02", date=day1.mission.date)
    seeded = seed_scored_video(mission, name="day02.mp4", seconds=4.0, anomalies=(), seed=2)
    video = attach_poses(seeded.video, read_telemetry(patrol_tiny_set / "day02" / "patrol.SRT"), width=320, height=180)
    shutil.copy(patrol_tiny_set / "day02" / "patrol.mp4", Path(settings.MEDIA_ROOT) / video.proxy_path)
    Video.objects.filter(pk=video.pk).update(has_proxy=True)
    truth = load_groundtruth(patrol_tiny_set / "day02" / "patrol.mp4")
    box = truth.object_box
    reviews = [Event.Review.CONFIRMED, Event.Review.UNREVIEWED, Event.Review.DISMISSED]
    Event.objects.bulk_create(
        Event(score_run=seeded.runs["cae"], start=max(0.0, f / 4 - 0.25), end=f / 4 + 0.25, peak_time=f / 4,
              peak_score=1.0, level=[1.2, 2.0, 3.0, 5.0][n % 4], review=reviews[n % 3],
              peak_x=(box[i, 0] + box[i, 2]) / 640, peak_y=(box[i, 1] + box[i, 3]) / 360)
        for n, (i, f) in enumerate((i, f) for i, f in enumerate(truth.object_frame) if f % 2 == 0))
    locate_events(Event.objects.filter(score_run__video=video).select_related("score_run__video__mission__area"))
    return Video.objects.get(pk=video.pk)


def log_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def marker_point(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of map point (x, y) metres."""
    return page.evaluate(
        """([x, y]) => { const gd = document.getElementById('map'); const box = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [box.left + xa._offset + xa.d2p(x), box.top + ya._offset + ya.d2p(y)]; }""", [x, y])


def test_a_map_marker_opens_the_review_page_at_its_moment(live_server, map_page, patrol):
    page = map_page
    log_in(page, live_server, make_user("ana", "analyst"))
    page.goto(live_server.url + reverse("mission_map", args=[patrol.mission.pk]))
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    wait_until(page, "document.querySelector('#map .imagelayer image') !== null")  # the mosaic layer
    wait_until(page, MOSAIC_LOADED)
    screenshot(page, "mission-map", full_page=False)
    assert page.problems == []

    markers = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).events")
    assert len(markers) == Event.objects.filter(score_run__video=patrol).count() >= 4
    # The marker farthest from any other, so that the click cannot land on a neighbour.
    spacing = [min(np.hypot(m["x"] - o["x"], m["y"] - o["y"]) for o in markers if o is not m) for m in markers]
    marker = markers[int(np.argmax(spacing))]
    event = Event.objects.get(pk=marker["id"])
    page.mouse.click(*marker_point(page, marker["x"], marker["y"]))
    page.wait_for_url(lambda url: "/review/" in url, timeout=30_000)
    query = parse_qs(urlparse(page.url).query)
    assert urlparse(page.url).path == reverse("video_review", args=[patrol.pk])
    assert query == {"event": [str(event.pk)], "t": [f"{event.peak_time:.2f}"]}
    page.wait_for_selector("body[data-review-ready='1']", timeout=30_000)
    wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {event.peak_time}) < 0.3")


def map_view(page) -> dict:
    """The map's axis ranges now (plotly widens one of them to keep metres square) and its layout images."""
    return page.evaluate("""(() => { const gd = document.getElementById('map'), full = gd._fullLayout;
        return { x: full.xaxis.range, y: full.yaxis.range, level: gd.dataset.tileLevel,
                 images: (gd.layout.images || []).map((i) => ({ name: i.name, source: i.source, x: i.x, y: i.y,
                                                               sizex: i.sizex, sizey: i.sizey })) }; })()""")


def zoom(page, x: tuple[float, float], y: tuple[float, float]) -> None:
    """What a user's zoom does: a relayout of the axes (plotly_relayout), as the scroll wheel or a drawn box."""
    page.evaluate("([x, y]) => Plotly.relayout('map', {'xaxis.range': x, 'yaxis.range': y})", [list(x), list(y)])


def meets(image: dict, view: dict) -> bool:
    left, right = image["x"], image["x"] + image["sizex"]
    bottom, top = image["y"] - image["sizey"], image["y"]
    return left <= max(view["x"]) and right >= min(view["x"]) and bottom <= max(view["y"]) and top >= min(view["y"])


def test_zooming_in_loads_only_the_tiles_in_view_of_the_finer_level(live_server, map_page, patrol):
    page = map_page
    log_in(page, live_server, make_user("vera", "viewer"))
    page.goto(live_server.url + reverse("mission_map", args=[patrol.mission.pk]))
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    layer = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).mosaic")
    levels, size = layer["tiles"]["levels"], layer["tiles"]["size"]
    coarsest = len(levels) - 1
    assert coarsest >= 2 and max(levels[-1]) <= size  # the generated flight's mosaic: 922x396 px and down

    # Zoomed far out: the coarsest level alone, one tile.
    width, height = layer["width"], layer["height"]
    zoom(page, (layer["x"] - 4 * width, layer["x"] + 5 * width), (layer["y"] - 5 * height, layer["y"] + 4 * height))
    wait_until(page, f"document.getElementById('map').dataset.tileLevel === '{coarsest}'")
    assert [i["name"] for i in map_view(page)["images"]] == [f"{coarsest}/0/0"]

    # Zoomed in on 30 m around the mosaic's middle: level 0 over it, only the tiles that meet the view.
    middle = (layer["x"] + width / 2, layer["y"] - height / 2)
    zoom(page, (middle[0] - 15, middle[0] + 15), (middle[1] - 8, middle[1] + 8))
    wait_until(page, "document.getElementById('map').dataset.tileLevel === '0' && document.getElementById('map')"
                     ".layout.images.some((i) => i.name.startsWith('0/'))")
    view = map_view(page)
    fine = [i for i in view["images"] if i["name"].startswith("0/")]
    columns, rows = -(-levels[0][0] // size), -(-levels[0][1] // size)
    assert all(meets(i, view) for i in fine) and 1 <= len(fine) < columns * rows
    resolution = width / levels[0][0]
    in_view = {f"0/{c}/{r}" for c in range(columns) for r in range(rows)
               if meets({"x": layer["x"] + c * size * resolution, "y": layer["y"] - r * size * resolution,
                         "sizex": size * resolution, "sizey": size * resolution}, view)}
    assert {i["name"] for i in fine} == in_view
    assert [i["name"] for i in view["images"] if not i["name"].startswith("0/")] == [f"{coarsest}/0/0"]
    # Each came from the tile view, and the images drawn are these.
    sources = [i["source"] for i in fine]
    wait_until(page, f"""{sources!r}.every((s) => performance.getEntriesByType('resource')
                         .some((e) => e.name.endsWith(s) && e.responseEnd > 0))""")
    drawn = page.evaluate("""Array.from(document.querySelectorAll('#map .imagelayer image'))
                             .map((e) => e.getAttributeNS('http://www.w3.org/1999/xlink', 'href'))""")
    assert sorted(drawn) == sorted(i["source"] for i in view["images"])
    screenshot(page, "mission-map-zoomed", full_page=False)
    assert page.problems == []


def test_the_drones_marker_follows_the_player(live_server, map_page, patrol):
    page = map_page
    log_in(page, live_server, make_user("vera", "viewer"))
    page.goto(live_server.url + reverse("mission_map", args=[patrol.mission.pk]))
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    wait_until(page, "document.getElementById('map-player').readyState >= 1")
    page.evaluate("document.getElementById('map-player').currentTime = 3.0")
    track = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).tracks[0]")
    want = (np.interp(3.0, track["t"], track["x"]), np.interp(3.0, track["t"], track["y"]))
    drone = ("(() => { const gd = document.getElementById('map'); "
             "return gd.data.find((t) => t.meta && t.meta.role === 'drone'); })()")
    wait_until(page, f"Math.abs({drone}.x[0] - {want[0]}) < 0.5 && Math.abs({drone}.y[0] - {want[1]}) < 0.5")
    assert page.problems == []


def test_the_area_map_shows_the_confirmed_events_over_the_mosaic(live_server, map_page, patrol):
    page = map_page
    log_in(page, live_server, make_user("ana", "analyst"))
    page.goto(live_server.url + reverse("area", args=[patrol.mission.area.pk]))
    screenshot(page, "area-page-map-actions", full_page=False)
    page.click("text=Area map")
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    wait_until(page, "document.querySelector('#map .imagelayer image') !== null")
    wait_until(page, MOSAIC_LOADED)
    screenshot(page, "area-map", full_page=False)
    shown = page.evaluate("""document.getElementById('map').data.filter((t) => t.meta && t.meta.role === 'events')
                             .map((t) => [t.meta.state, t.x.length])""")
    confirmed = Event.objects.filter(score_run__video=patrol, review=Event.Review.CONFIRMED).count()
    assert shown == [["confirmed", confirmed]] and confirmed >= 2
    assert page.problems == []
