"""In chromium: an analyst triages ten events from the inbox with the keyboard. Each verdict is in the database
and the next event of the queue is shown at once, also across the page refilling itself; the counts follow; u
undoes the last verdict. Full-page 1440x900 screenshots of the inbox and the dashboard go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict

from tests.support.browser import log_in, screenshot, wait_until
from tests.support.seed import make_user, seed_scored_video
from tests.webapp.test_change_compare import change_run
from webapp.catalog.models import Area, Mission
from webapp.detectors.levels import level_of
from webapp.detectors.models import Event
from webapp.reports import inbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "an-inbox-test-password"
ANOMALIES = ((5.0, 8.0, "boat"), (18.0, 21.0, "person"), (32.0, 35.0, "debris"), (46.0, 49.0, "boat"))
# The ten verdicts: (key, class key pressed first, note typed first).
PLAN = [("c", "1", ""), ("d", "", ""), ("c", "", "two people on the rocks"), ("d", "", ""), ("d", "", ""),
        ("c", "4", ""), ("d", "", ""), ("c", "", ""), ("d", "", "glint"), ("c", "2", "")]


@pytest.fixture
def queue():
    """Thirteen unreviewed events: a CHANGE event with its reference frame, and four CAE events in each of three
    patrols of the Outer skerries."""
    event, _ = change_run()
    event.level = level_of(event.score_run.detector, event.peak_score, event.score_run.threshold)
    event.save(update_fields=["level"])
    area = Area.objects.create(name="Outer skerries")
    for day in range(3):
        mission = Mission.objects.create(area=area, name=f"Morning patrol {day + 1}", date=dt.date(2026, 6, 2 + day))
        seed_scored_video(mission, name="patrol.mp4", frame_size=64, heatmap_size=16, anomalies=ANOMALIES, seed=20 + day)
    return make_user("anna", "analyst", password=PASSWORD)


def queue_head(user) -> int:
    """The first event of the inbox's default queue, as the server orders it."""
    filters = inbox.InboxFilter(QueryDict(), user)
    return filters.apply(inbox.visible_events(user)).values_list("pk", flat=True).first()


def shown(page) -> int:
    return int(page.get_attribute("#inbox-current", "data-event"))


def test_ten_events_are_triaged_by_keyboard_each_stored_and_the_next_shown(page, live_server, queue, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 6)  # the live server runs in this process: the queue refills mid-way
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "anna", PASSWORD)
    page.goto("/inbox/")
    page.wait_for_selector("body[data-inbox-ready='1']")
    wait_until(page, "Array.from(document.querySelectorAll('#inbox-table img, #current-images img:not([hidden])'))"
                     ".every(i => i.closest('[hidden]') || (i.complete && i.naturalWidth > 0))")
    assert page.locator("#inbox-table tr[data-event]").count() == 6
    assert page.locator("#inbox-table td.pair img").count() == 2  # the CHANGE row: today's frame and the reference
    screenshot(page, "inbox")

    first = shown(page)  # n and p move through the queue without a verdict
    page.keyboard.press("n")
    page.wait_for_selector(f"#inbox-current:not([data-event='{first}'])")
    assert shown(page) == int(page.locator("#inbox-table tr[data-event]").nth(1).get_attribute("data-event"))
    page.keyboard.press("p")
    page.wait_for_selector(f"#inbox-current[data-event='{first}']")
    assert Event.objects.filter(review="unreviewed").count() == 13

    reviewed = []
    for key, class_key, note in PLAN:
        current = shown(page)
        assert current == queue_head(queue)
        if note:
            page.fill("#verdict-note", note)
            page.keyboard.press("Escape")  # out of the note: keys go to the page again
        if class_key:
            page.keyboard.press(class_key)
        chosen = page.input_value("#verdict-class")
        page.keyboard.press(key)
        page.wait_for_selector(f"body[data-inbox-ready='1'] #inbox-current:not([data-event='{current}'])")
        event = Event.objects.get(pk=current)
        expected = "confirmed" if key == "c" else "dismissed"
        assert (event.review, event.reviewer, event.note) == (expected, queue, note)
        assert event.anomaly_class == (chosen if key == "c" else "")
        assert shown(page) == queue_head(queue), "the next event of the queue is shown"
        reviewed.append(event)
        wait_until(page, f"document.querySelector('[data-count=unreviewed]').textContent === '{13 - len(reviewed)}'")

    assert [e.anomaly_class for e in reviewed if e.review == "confirmed"] == ["boat", "", "debris", "", "person"]
    assert Event.objects.filter(review="unreviewed").count() == 3
    assert page.inner_text("[data-count=confirmed]") == "5" and page.inner_text("[data-count=dismissed]") == "5"

    page.keyboard.press("u")  # undo the tenth verdict: the event is unreviewed again and shown
    page.wait_for_selector(f"#inbox-current[data-event='{reviewed[-1].pk}']")
    wait_until(page, "document.querySelector('[data-count=unreviewed]').textContent === '4'")
    reviewed[-1].refresh_from_db()
    assert (reviewed[-1].review, reviewed[-1].anomaly_class, reviewed[-1].reviewer) == ("unreviewed", "", None)
    assert "Undone" in page.inner_text("#verdict-status")
    assert page.console_errors == []

    page.goto("/")  # the dashboard points at what is left
    assert "Morning patrol" in page.inner_text(".attention")
    screenshot(page, "dashboard-attention")
