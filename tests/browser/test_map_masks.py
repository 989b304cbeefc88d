"""Drawing a mask on the area map, in a real browser: an analyst clicks four corners around an event's marker over
the mosaic, undoes a stray one, saves; the map outlines the new mask and says the event lies inside it, the area
page lists it on the ground, the next flight over that place, scored, raises the other event but not that one (its
mission map shows one marker), and the map's list deletes the mask. A viewer gets no drawing tools. (Screenshots
kept in test-artifacts/.)"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.support.area_mosaic import flown_patrol, save_area_mosaic, write_poster
from tests.support.browser import log_in, screenshot, wait_until
from tests.support.maps import attach_poses, straight_flight
from tests.support.seed import make_user
from webapp.catalog.models import AreaMask, Mission, Video
from webapp.detectors.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-map-mask-test-password"
CORNERS = [(-40, -30), (40, -30), (40, 30), (-40, 30)]  # screen pixels around the marker
MOSAIC_LOADED = ("performance.getEntriesByType('resource').some((e) => e.name.includes('/mosaics/') "
                 "&& e.responseEnd > 0)")


def page_point(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of map point (x, y) metres, through plotly's axes (what placed the marker there)."""
    return page.evaluate(
        """([x, y]) => { const gd = document.getElementById('map'); const box = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [box.left + xa._offset + xa.d2p(x), box.top + ya._offset + ya.d2p(y)]; }""", [x, y])


def score_another_flight(video: Video) -> Video:
    """Another day's flight along the same track, scored with the detector of `video` finding anomalies at the
    same moments and frame places as `video`'s events (what a new scoring of that patrol finds); masks applied."""
    from detection.types import DetectedEvent, SampledFrames, VideoScores
    from workers.scoring import store_scores

    run = video.score_runs.get()
    mission = Mission.objects.create(area=video.mission.area, name="day02", date=video.mission.date)
    again = Video.objects.create(mission=mission, original_name="day02.mp4", status=Video.Status.READY,
                                 duration=video.duration, width=video.width, height=video.height)
    again = attach_poses(again, straight_flight(video.duration))
    detected = tuple(DetectedEvent(e.start, e.end, e.peak_time, e.peak_score, peak_x=e.peak_x, peak_y=e.peak_y)
                     for e in run.events.order_by("peak_time"))
    times = np.arange(0.0, video.duration, 0.5)
    scores = VideoScores(times=times, frame_scores=np.ones(len(times), np.float32), threshold=0.5, events=detected)
    frames = SampledFrames(np.zeros((len(times), 4, 4, 3), np.uint8), times)
    store_scores(run.detector, again, SimpleNamespace(), frames, scores)
    return again


def test_an_analyst_draws_a_mask_around_an_event_on_the_area_map(page, live_server):
    video = flown_patrol()
    save_area_mosaic(video)
    write_poster(video)
    area = video.mission.area
    make_user("ana", "analyst", password=PASSWORD)
    log_in(page, "ana", PASSWORD)
    page.goto(f"/areas/{area.pk}/map/")
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    wait_until(page, MOSAIC_LOADED)
    markers = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).events")
    assert len(markers) == 2 and page.text_content("#event-count") == "2"
    target, other = sorted(markers, key=lambda m: m["x"])
    wait_until(page, "!document.getElementById('mask-draw').disabled")
    assert page.locator("#mask-drawing-tools").is_hidden()

    page.click("#mask-draw")
    x, y = page_point(page, target["x"], target["y"])
    for dx, dy in CORNERS[:3]:
        page.mouse.click(x + dx, y + dy)
    page.mouse.click(x + 200, y + 5)  # a stray corner...
    wait_until(page, "document.getElementById('mask-tools').dataset.corners === '4'")
    page.click("#mask-undo")  # ...taken back
    page.mouse.click(x + CORNERS[3][0], y + CORNERS[3][1])
    wait_until(page, "document.getElementById('mask-tools').dataset.corners === '4'")
    page.fill("#mask-name", "marina")
    drawing = page.evaluate("""document.getElementById('map').data.find((t) => t.meta && t.meta.role === 'drawing')""")
    assert len(drawing["x"]) == 5 and drawing["x"][0] == drawing["x"][-1], "closed from the third corner"
    # Each corner is where it was clicked: quick clicks are no double click resetting the view under the next.
    for (dx, dy), cx, cy in zip(CORNERS, drawing["x"], drawing["y"]):
        assert page_point(page, cx, cy) == pytest.approx((x + dx, y + dy), abs=1.0)
    assert page.url.endswith("/map/"), "a click on the map while drawing opens no review page"
    screenshot(page, "area-map-drawing-mask", full_page=False)

    page.click("#mask-save")
    page.wait_for_selector("#map-mask-list li:has-text('marina')")
    assert "1 event on this map lies there" in page.text_content("#mask-status")
    assert page.locator("#map path.js-fill").count() == 1, "the new mask is outlined like the others"
    assert page.locator("#mask-drawing-tools").is_hidden() and page.evaluate(
        "!document.getElementById('map').data.some((t) => t.meta && t.meta.role === 'drawing')")
    mask = AreaMask.objects.get()
    assert mask.space == AreaMask.Space.GROUND and mask.name == "marina"
    outline = page.evaluate("""document.getElementById('map').data.find((t) => t.meta && t.meta.role === 'mask')""")
    drawn = np.c_[drawing["x"], drawing["y"]][:4]
    np.testing.assert_allclose(np.c_[outline["x"], outline["y"]][:4], drawn, atol=0.1)  # where it was drawn
    screenshot(page, "area-map-mask-saved", full_page=False)
    screenshot(page, "area-map-mask-saved-full")  # with the list of masks under the map
    assert not page.console_errors

    page.goto(f"/areas/{area.pk}/")  # the area page lists it on the ground, with the share of the frames
    page.wait_for_selector("#mask-list li:has-text('marina')")
    assert "on the ground" in page.text_content("#mask-list li")
    assert "With the ground masks, they cover" in page.text_content("#ground-share")

    # The next flight over that place: the event inside the mask is not raised, the other one is.
    kept = Event.objects.get(pk=other["id"])
    day2 = score_another_flight(video)
    raised = list(Event.objects.filter(score_run__video=day2))
    assert [e.peak_time for e in raised] == [kept.peak_time]
    assert (raised[0].latitude, raised[0].longitude) == pytest.approx((kept.latitude, kept.longitude), abs=1e-7)
    page.goto(f"/missions/{day2.mission.pk}/map/")
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    shown = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).events")
    assert [m["id"] for m in shown] == [raised[0].pk] and page.locator("#map path.js-fill").count() == 1
    screenshot(page, "mission-map-after-mask", full_page=False)
    assert not page.console_errors

    page.goto(f"/areas/{area.pk}/map/")  # and deleted from the area map's list
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#map-mask-list button[aria-label='Delete marina']")
    page.wait_for_selector("#mask-status:has-text('deleted')")
    assert page.text_content("#map-mask-count") == "0" and page.locator("#map path.js-fill").count() == 0
    assert not AreaMask.objects.exists() and not page.console_errors


def test_a_viewer_sees_the_masks_but_gets_no_drawing_tools(page, live_server):
    video = flown_patrol()
    save_area_mosaic(video)
    AreaMask.objects.create(area=video.mission.area, name="jetty", space=AreaMask.Space.GROUND,
                            points=[[59.4201, 18.8805], [59.4201, 18.8810], [59.4204, 18.8810]])
    make_user("vera", "viewer", password=PASSWORD)
    log_in(page, "vera", PASSWORD)
    page.goto(f"/areas/{video.mission.area.pk}/map/")
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    assert page.locator("#mask-draw").count() == 0
    page.wait_for_selector("#map-mask-list li:has-text('jetty')")
    assert page.locator("#map-mask-list button").count() == 0
    assert page.locator("#map path.js-fill").count() == 1
    assert not page.console_errors


def test_crossing_edges_are_refused_on_the_page_and_an_area_without_a_mosaic_says_why(page, live_server):
    video = flown_patrol()
    make_user("ana", "analyst", password=PASSWORD)
    log_in(page, "ana", PASSWORD)
    page.goto(f"/areas/{video.mission.area.pk}/map/")  # no mosaic yet
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    assert page.is_disabled("#mask-draw") and "this area has none yet" in page.text_content("#mask-status")
    screenshot(page, "area-map-no-mosaic", full_page=False)

    save_area_mosaic(video)
    page.reload()
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    wait_until(page, "!document.getElementById('mask-draw').disabled")
    page.click("#mask-draw")
    marker = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).events[0]")
    x, y = page_point(page, marker["x"], marker["y"])
    for dx, dy in [(-40, -30), (40, 30), (40, -30), (-40, 30)]:  # a bow tie
        page.mouse.click(x + dx, y + dy)
    page.click("#mask-save")
    page.wait_for_selector("#mask-status:has-text('cross')")
    assert "edges 1–2 and 3–4 cross" in page.text_content("#mask-status")
    assert page.locator("#mask-drawing-tools").is_visible() and not page.is_disabled("#mask-save"), "still drawing"
    screenshot(page, "area-map-mask-refused", full_page=False)
    page.keyboard.press("Escape")
    assert page.locator("#mask-drawing-tools").is_hidden() and not AreaMask.objects.exists()
    assert page.console_errors == [] or all("400" in e for e in page.console_errors)
