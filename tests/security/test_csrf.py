"""CSRF on every state-changing URL: a logged-in session without the token is refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.routes import ROUTES, WRITE_METHODS, arguments, world  # noqa: F401 - fixtures
from tests.webapp.catalog_actors import admin, analyst, area, mission, outsider, viewer  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

# Token-authenticated API calls carry no cookie a forger could ride; session-authenticated ones must bring the
# CSRF token (DRF enforces it), so they are checked too. The login form is checked in test_login_and_headers.
NO_SESSION_WRITES = {"login", "healthz", "plotly_js"}


def test_every_state_changing_url_refuses_a_session_request_without_a_csrf_token(world, admin):  # noqa: F811
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    checked, problems = 0, []
    for route in ROUTES:
        if route.name in NO_SESSION_WRITES:
            continue
        url = reverse(route.name, kwargs=arguments(route, world))
        for method in WRITE_METHODS.get(route.name, ("POST",)):
            response = getattr(strict, method.lower())(url, headers={"Tus-Resumable": "1.0.0"})
            if response.status_code == 405:
                continue  # the URL takes no such write at all
            checked += 1
            if response.status_code != 403:
                problems.append(f"{method} {route.name} ({url}) without CSRF token: {response.status_code}")
    assert problems == []
    assert checked >= 20, f"only {checked} writes checked: the route walk is broken"
