"""Named actors and a small catalog for the web app tests: import the fixtures you use into a test module.

    from tests.webapp.catalog_actors import *  # noqa: F403  (viewer, analyst, admin, outsider, area, mission)

Users: vera (viewer), anna (analyst), adam (admin), otto (logged in, no role). `login(user)` gives a Client.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.support.teams import give_role
from webapp.catalog.models import Area, Mission

__all__ = ["viewer", "analyst", "admin", "outsider", "area", "mission", "login", "make_user", "tus_create", "tus_patch", "tus_upload"]

TUS = {"Tus-Resumable": "1.0.0"}


def make_user(username: str, role: str | None, password: str | None = None) -> User:
    """A user with the role in the default team (where the `area` fixture is); without a password (no slow
    hashing) unless one is given."""
    user = User.objects.create_user(username=username, password=password)
    if role:
        give_role(user, role)
    return user


@pytest.fixture
def viewer(db):
    return make_user("vera", "viewer")


@pytest.fixture
def analyst(db):
    return make_user("anna", "analyst")


@pytest.fixture
def admin(db):
    return make_user("adam", "admin")


@pytest.fixture
def outsider(db):
    return make_user("otto", None)


@pytest.fixture
def area(db):
    return Area.objects.create(name="North Skerries", description="Outer islands")


@pytest.fixture
def mission(area, analyst):
    return Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28), created_by=analyst)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tus_create(client: Client, url: str, length: int, filename: str = "clip.mp4", **headers):
    metadata = "filename " + base64.b64encode(filename.encode()).decode()
    return client.post(url, headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata, **headers})


def tus_patch(client: Client, url: str, offset: int, data: bytes, **headers):
    return client.patch(
        url, data=data, content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": str(offset), **headers},
    )


def tus_upload(client: Client, create_url: str, data: bytes, filename: str = "clip.mp4", chunk: int = 4096, **headers):
    """Upload `data` in chunks; return the last response (the final PATCH, or the refusal)."""
    created = tus_create(client, create_url, len(data), filename, **headers)
    if created.status_code != 201:
        return created
    location = created["Location"]
    response = created
    for offset in range(0, len(data), chunk):
        response = tus_patch(client, location, offset, data[offset : offset + chunk], **headers)
        if response.status_code != 204:
            return response
    return response
