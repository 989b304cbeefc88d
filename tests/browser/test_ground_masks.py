"""A mask fixed to the ground, in a real browser: on a reference flight with telemetry an analyst draws a box
with "Fix to the ground" ticked; the list says it is on the ground, the frame draws it back where it was drawn,
and the page says how much of the flight's frames it covers. (That it drops the event at that place on a
flight flown another way is tests/webapp/test_masks.py's.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from tests.detection.change_scenes import textured_world
from tests.support.browser import log_in, screenshot
from tests.support.maps import attach_poses, straight_flight
from tests.support.seed import make_mission, make_user
from webapp.catalog.models import AreaMask, Video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-ground-mask-test-password"
BOX = [(0.55, 0.25), (0.85, 0.25), (0.85, 0.6), (0.55, 0.6)]


def test_an_analyst_fixes_a_mask_to_the_ground(page, live_server):
    mission = make_mission()
    video = Video.objects.create(mission=mission, original_name="dawn.mp4", file="videos/1/o.mp4",
                                 status=Video.Status.READY, label=Video.Label.NORMAL, duration=60.0)
    poster = Path(settings.MEDIA_ROOT) / video.poster_path
    poster.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(textured_world(seed=4, size=640)[:360])).save(poster)
    attach_poses(video, straight_flight(60.0), width=1280, height=720)
    make_user("ana", "analyst", password=PASSWORD)

    log_in(page, "ana", PASSWORD)
    page.goto(f"/areas/{mission.area.pk}/")
    page.wait_for_selector("#mask-image")
    assert page.is_checked("#mask-ground")
    page.locator("#mask-svg").scroll_into_view_if_needed()
    box = page.locator("#mask-svg").bounding_box()
    for x, y in BOX:
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.fill("#mask-name", "jetty")
    page.click("#mask-save")
    page.wait_for_selector("#mask-list li:has-text('jetty')")
    assert "on the ground" in page.text_content("#mask-list li")
    page.wait_for_selector("polygon.mask-shape.mask-ground")
    assert "With the ground masks, they cover" in page.text_content("#ground-share")
    assert page.text_content("#masked-share") == "0%", "no frame mask"
    mask = AreaMask.objects.get()
    assert mask.space == AreaMask.Space.GROUND and abs(mask.points[0][0] - 59.42) < 0.01
    drawn = page.locator("polygon.mask-ground").get_attribute("points").split()
    first = [float(v) for v in drawn[0].split(",")]
    assert first == pytest.approx(list(BOX[0]), abs=0.01), "drawn back where it was drawn"
    assert not page.console_errors
    page.locator("#masks").scroll_into_view_if_needed()
    screenshot(page, "ground-mask-area")
    page.goto(f"/areas/{mission.area.pk}/map/")
    page.wait_for_selector("#map[data-ready='1']")
    assert page.locator("#map path.js-fill").count() == 1, "the mask is outlined on the area map"
    assert not page.console_errors
    screenshot(page, "ground-mask-map")
