"""API tokens work until revoked or replaced, and then stop at once."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.support.seed import make_user

pytestmark = pytest.mark.django_db


def api(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


def test_a_revoked_or_replaced_token_is_refused():
    user = make_user("tove", "analyst")
    browser = Client()
    browser.force_login(user)
    browser.post("/api/token/", {"action": "create"})
    first = Token.objects.get(user=user).key
    assert api(first).get("/api/missions/").status_code == 200
    browser.post("/api/token/", {"action": "create"})
    second = Token.objects.get(user=user).key
    assert api(first).get("/api/missions/").status_code == 401
    assert api(second).get("/api/missions/").status_code == 200
    browser.post("/api/token/", {"action": "revoke"})
    assert api(second).get("/api/missions/").status_code == 401


def test_a_token_of_a_user_without_a_role_reads_nothing():
    user = make_user("nils", None)
    key = Token.objects.create(user=user).key
    assert api(key).get("/api/missions/").status_code == 403
