"""Login is required, throttled after repeated failures, and every response carries the security headers."""

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def analyst(db):
    from tests.support.teams import give_role

    user = get_user_model().objects.create_user("alice", password="correct-horse-battery")
    give_role(user, "analyst")
    return user


def test_anonymous_users_are_sent_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_logs_in_with_the_right_password(client, analyst):
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_it_refuses_logins_after_repeated_failures_even_with_the_right_password(client, analyst, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert client.get("/").status_code == 302


def test_the_login_form_requires_a_csrf_token(analyst):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert response.status_code == 403


def test_responses_carry_security_headers(client, analyst):
    client.force_login(analyst)
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_hsts_is_on_in_production_settings():
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "webapp.settings",
           "DJANGO_SECRET_KEY": "x" * 60, "SKERRY_VAR_DIR": "/tmp/skerry-hsts"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["31536000", "True", "True"]


def test_healthz_needs_no_login(client, db):
    assert client.get("/healthz?workers=0").status_code in (200, 503)
