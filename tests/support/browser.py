"""Playwright fixtures: Debian's headless chromium driving pytest-django's live_server. Reuse them.

The fixtures `browser` and `page` are registered once, in tests/conftest.py (importing them into a module
would start a second Playwright loop in the same thread). In a test module:

    from tests.support.browser import log_in, screenshot

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_it_shows_the_dashboard(page, live_server):
        make_user("vera", "viewer", password="a-long-test-password")   # tests.support.seed
        log_in(page, "vera", "a-long-test-password")                   # real login form, real session cookie
        page.goto("/")                                                 # base_url is live_server.url
        screenshot(page, "dashboard")                                  # test-artifacts/dashboard.png

- `browser` (session scope): one chromium for the run, launched from /usr/bin/chromium (no Playwright download)
  headless with BROWSER_ARGS. Set SKERRY_BROWSER_HEADED=1 to watch it.
- `page` (function scope): a fresh context (own cookies and localStorage) whose base_url is the live server,
  1280x900, 15 s default timeout (60 s for page loads); browser console errors are collected in `page.console_errors` (a list),
  Content-Security-Policy violations included. `wait_until(page, "js expression")` replaces
  page.wait_for_function, which the CSP blocks.
- The live server needs `django_db(transaction=True)` (pytest-django does that for live_server) and
  serves static files from the source folders. Playwright's sync API runs an event loop in this thread,
  so Django's async-safety check would refuse ORM calls from the test: the `browser` fixture sets
  DJANGO_ALLOW_ASYNC_UNSAFE for the session (the test itself is plain synchronous code).
- With a real Celery worker (tests/support/worker.py), request `celery_worker` BEFORE `page` so both the
  live server and the worker use the worker's MEDIA_ROOT.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver for the whole run: its sync API keeps an event loop in this thread, so a second
    one started beside it would fail. Launch browsers with other flags from it (`playwright.chromium.launch`)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as driver:
            yield driver
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def launch(playwright, extra_args: tuple[str, ...] = ()):
    """Debian's chromium, headless unless SKERRY_BROWSER_HEADED=1, with BROWSER_ARGS plus `extra_args`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=os.environ.get("SKERRY_BROWSER_HEADED") != "1",
                                      args=BROWSER_ARGS + list(extra_args))


@pytest.fixture(scope="session")
def browser(playwright):
    launched = launch(playwright)
    yield launched
    launched.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    # A page load waits for the server, which on a busy two-core machine (CI beside other work) took over 15 s
    # for the review page once; waiting for an element stays at 15 s.
    tab.set_default_navigation_timeout(60_000)
    tab.console_errors = []
    tab.on("console", lambda message: message.type == "error" and tab.console_errors.append(message.text))
    tab.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    yield tab
    context.close()


def wait_until(page, expression: str, *, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression until it is truthy. Use this, not page.wait_for_function: that one
    compiles its predicate with eval(), which the app's Content-Security-Policy (rightly) forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


def submit(page, selector: str, *, timeout: float = 60.0) -> None:
    """Click a button that posts a form, and return once the page the post leads to has loaded.

    A click returns as soon as the click is dispatched; the post and its redirect load afterwards. A goto or
    reload issued meanwhile races that navigation (net::ERR_ABORTED, or "Not attached to an active page" when
    the old page is torn down under the reload), which happened on a busy machine. Waiting here removes the
    race; the test then navigates only from a page that has finished loading."""
    with page.expect_navigation(wait_until="load", timeout=timeout * 1000):
        page.click(selector)


def log_in(page, username: str, password: str) -> None:
    """Log in through the real login form; fails if the login page does not lead away from itself."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit(page, "button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG under test-artifacts/ (kept after the run, for people to look at) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
