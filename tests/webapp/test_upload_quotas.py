"""Uploads reserve the space they promise, and one user holds a bounded number of unfinished ones. (Issue 18:
five tus uploads each promising 20 GiB were accepted against 62 GiB free.)"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.webapp.catalog_actors import TUS, login, make_user, tus_create
from webapp.uploads.models import UploadSession

pytestmark = pytest.mark.django_db

GiB = 1024**3
Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def free_62_gib(monkeypatch):
    """The disk has 62 GiB free, however much is promised: nothing is written in these tests."""
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(100 * GiB, 38 * GiB, 62 * GiB))


def create_url(mission) -> str:
    return reverse("upload_create", args=[mission.pk])


def test_uploads_reserve_what_they_promise_so_five_20_gib_uploads_do_not_fit_in_62_gib(analyst, mission, free_62_gib):
    client = login(analyst)
    answers = [tus_create(client, create_url(mission), 20 * GiB, f"pass-{i}.mp4") for i in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 507, 507]
    error = answers[3].json()
    assert error["error"] == ("the server has 65.5 GB free for uploads (64.4 GB of it promised to 3 unfinished "
                              "upload(s)), not enough for this 21.5 GB file; ask an administrator to free some space")
    assert error["final"] is True
    assert UploadSession.objects.count() == 3
    assert len(list((Path(settings.MEDIA_ROOT) / "uploads").glob("*.part"))) == 3


def test_other_users_unfinished_uploads_count_too(analyst, mission, free_62_gib):
    other = make_user("olga", "analyst")
    for _ in range(3):
        assert tus_create(login(other), create_url(mission), 20 * GiB).status_code == 201
    assert tus_create(login(analyst), create_url(mission), 2 * GiB).status_code == 507


def test_an_upload_reserves_only_the_bytes_still_to_come(analyst, mission, free_62_gib):
    client = login(analyst)
    for _ in range(3):
        assert tus_create(client, create_url(mission), 20 * GiB).status_code == 201
    assert tus_create(client, create_url(mission), 2 * GiB).status_code == 507
    UploadSession.objects.update(offset=10 * GiB)  # half of each has arrived (and left the free space)
    assert tus_create(client, create_url(mission), 20 * GiB).status_code == 201


def test_finished_and_rejected_uploads_reserve_nothing(analyst, mission, free_62_gib):
    client = login(analyst)
    for _ in range(3):
        assert tus_create(client, create_url(mission), 20 * GiB).status_code == 201
    first, second = UploadSession.objects.all()[:2]
    UploadSession.objects.filter(pk=first.pk).update(state=UploadSession.State.COMPLETE, offset=20 * GiB)
    UploadSession.objects.filter(pk=second.pk).update(state=UploadSession.State.REJECTED)
    assert tus_create(client, create_url(mission), 20 * GiB).status_code == 201


def test_a_user_holds_at_most_the_allowed_unfinished_uploads(analyst, mission, settings):
    settings.MAX_ACTIVE_UPLOADS_PER_USER = 2
    client = login(analyst)
    locations = [tus_create(client, create_url(mission), 1000)["Location"] for _ in range(2)]
    refused = tus_create(client, create_url(mission), 1000)
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("you already have 2 unfinished uploads, the most allowed at once")
    assert UploadSession.objects.filter(created_by=analyst).count() == 2

    assert tus_create(login(make_user("olga", "analyst")), create_url(mission), 1000).status_code == 201
    assert client.delete(locations[0], headers=TUS).status_code == 204
    assert tus_create(client, create_url(mission), 1000).status_code == 201


def test_the_api_applies_the_same_limits(analyst, mission, settings):
    settings.MAX_ACTIVE_UPLOADS_PER_USER = 1
    from django.test import Client

    api = Client(headers={"Authorization": f"Token {Token.objects.create(user=analyst).key}"})
    url = reverse("api_upload_create", args=[mission.pk])
    assert tus_create(api, url, 1000).status_code == 201
    assert tus_create(api, url, 1000).status_code == 429
