"""No stored XSS: hostile names, notes, labels and class names render as text on every page, in a browser."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.browser import log_in, wait_until
from tests.support.seed import make_user, seed_scored_video
from tests.support.teams import give_role
from webapp.accounts.models import Team
from webapp.catalog.models import Area, LabelInterval, Mission
from webapp.detectors.models import Detector, Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"\'><svg onload=window.__xss=1>'


def test_hostile_names_and_notes_render_as_text_everywhere(page, live_server):  # noqa: F811

    hedda = make_user("hedda", None, password="a-long-xss-test-password")
    hostile_team = Team.objects.create(name="Team " + HOSTILE)  # shown on the areas page and its form
    give_role(hedda, "admin", hostile_team)
    hostile_area = Area.objects.create(name="Area " + HOSTILE, description=HOSTILE, team=hostile_team)
    hostile_mission = Mission.objects.create(area=hostile_area, name="Mission " + HOSTILE, date=dt.date(2026, 11, 28),
                                     drone=HOSTILE, operator=HOSTILE, notes=HOSTILE)
    seeded = seed_scored_video(hostile_mission, proxy=True, seconds=4.0, anomalies=((1.0, 3.0, "boat"),))
    video = seeded.video
    video.original_name = HOSTILE + ".mp4"
    video.save()
    LabelInterval.objects.filter(video=video).update(anomaly_class=HOSTILE[:60])
    Event.objects.filter(score_run__video=video).update(note=HOSTILE)
    Detector.objects.filter(area=hostile_area).update(name="Detector " + HOSTILE)
    detector = Detector.objects.filter(area=hostile_area).first()

    log_in(page, "hedda", "a-long-xss-test-password")
    pages = ["/", "/areas/", hostile_area.get_absolute_url(), hostile_mission.get_absolute_url(), video.get_absolute_url(),
             f"/videos/{video.pk}/review/", f"/missions/{hostile_mission.pk}/report/", detector.get_absolute_url(),
             "/jobs/"]
    for path in pages:
        page.goto(path)
        page.wait_for_load_state("load")
        wait_until(page, "document.readyState === 'complete'")
        injected = page.evaluate(
            "document.querySelectorAll('img[src=\"x\"], svg[onload], script:not([src]):not([type])').length")
        assert injected == 0, f"{path}: hostile markup became elements"
        assert page.evaluate("window.__xss === undefined"), f"{path}: injected script ran"
        assert "window.__xss=1" in page.content() or path in ("/jobs/",), f"{path}: the text should show, escaped"
    assert [e for e in page.console_errors if "xss" in e.lower()] == []
