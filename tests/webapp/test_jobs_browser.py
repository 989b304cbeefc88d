"""In a real browser with a real worker: the jobs page follows a job without reloading, and cancels one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from tests.support.browser import log_in, screenshot, wait_until
from webapp.jobs import services
from webapp.jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-browser-test-password"


def test_the_jobs_page_follows_progress_live_and_cancels(celery_worker, page):  # noqa: F811 - fixtures
    analyst = User.objects.create_user("anna", password=PASSWORD)
    # A no-op job has no area, hence no team: only site admins (the admin group) see and cancel it.
    analyst.groups.add(Group.objects.get_or_create(name="admin")[0])
    log_in(page, "anna", PASSWORD)
    page.goto("/jobs/?kind=noop")  # an internal kind: listed only when asked for by name
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    quick = services.start_job("noop", params={"steps": 10, "step_seconds": 0.6})
    row = f'tr[data-job-id="{quick.pk}"]'
    page.wait_for_selector(f"{row}.state-running", timeout=20_000)  # a new job shows up by itself
    wait_until(page, f"document.querySelector('{row} progress').value > 0.2", timeout=20)
    page.wait_for_selector(f"{row}.state-succeeded", timeout=30_000)
    assert page.locator(f"{row} progress").evaluate("bar => bar.value") == 1
    assert page.evaluate("window.loadedOnce") is True, "the page reloaded"
    screenshot(page, "jobs-page-succeeded")

    slow = services.start_job("noop", params={"steps": 200, "step_seconds": 0.1})
    row = f'tr[data-job-id="{slow.pk}"]'
    page.wait_for_selector(f"{row}.state-running", timeout=20_000)
    page.click(f"{row} button:has-text('Cancel')")
    page.wait_for_selector(f"{row}.state-cancelled", timeout=20_000)
    assert "Cancelled at" in page.locator(f"{row} .job-stage").inner_text()
    assert page.locator(f"{row} button:has-text('Retry')").count() == 1
    slow.refresh_from_db()
    assert slow.state == Job.State.CANCELLED and slow.progress < 1
    assert page.evaluate("window.loadedOnce") is True
    screenshot(page, "jobs-page-cancelled")
