"""/healthz: anyone gets a fast liveness answer; the detailed report (workers, disk) needs a role or an API token."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.webapp.catalog_actors import make_user
from webapp.core import health

pytestmark = pytest.mark.django_db
WORKERS = {"cpu": {"ok": True, "workers": ["cpu1@ground-station-7"]}, "gpu": {"ok": True, "workers": []}}


@pytest.fixture
def pings(monkeypatch) -> list[float]:
    """Worker pings asked for (the broker is the network edge; a real ping waits about a second)."""
    asked: list[float] = []

    def check_workers(timeout: float = 1.0) -> dict:
        asked.append(timeout)
        return WORKERS

    monkeypatch.setattr(health, "check_workers", check_workers)
    return asked


def test_anonymous_callers_get_liveness_only_and_no_worker_ping(client, pings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": {"ok": True}}
    assert pings == [], "an anonymous call must not wait for workers"
    assert "ground-station-7" not in response.content.decode()


def test_a_signed_in_user_without_a_role_gets_liveness_only(client, pings):
    client.force_login(make_user("otto", None))
    assert client.get("/healthz").json() == {"ok": True, "database": {"ok": True}} and pings == []


def test_a_viewer_gets_the_detailed_report(client, pings):
    client.force_login(make_user("vera", "viewer"))
    body = client.get("/healthz").json()
    assert body["workers"] == WORKERS and body["disk"]["free_bytes"] > 0 and body["broker"]["ok"] is True
    assert pings == [1.0]
    assert "workers" not in client.get("/healthz?workers=0").json() and len(pings) == 1


def test_an_api_token_gets_the_detailed_report(pings):
    token = Token.objects.create(user=make_user("robot", "viewer"))
    body = Client(headers={"Authorization": f"Token {token.key}"}).get("/healthz").json()
    assert body["workers"] == WORKERS and "disk" in body


def test_a_bad_token_is_anonymous_not_an_error(pings):
    response = Client(headers={"Authorization": "Token not-a-real-token"}).get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True, "database": {"ok": True}}
