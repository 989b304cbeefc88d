"""Every file of the bad-input corpus uploaded through tus: bad ones refused with a reason, good ones kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.corpus.make_corpus import make_corpus
from tests.webapp.catalog_actors import login, tus_upload
from webapp.catalog.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_each_corpus_file_is_refused_with_a_reason_or_kept(analyst, mission, corpus):
    client = login(analyst)
    url = reverse("upload_create", args=[mission.pk])
    outcomes = {}
    for entry in corpus:
        before = set(mission.videos.values_list("pk", flat=True))
        response = tus_upload(client, url, entry.path.read_bytes(), entry.path.name, chunk=64 * 1024)
        after = set(mission.videos.values_list("pk", flat=True))
        if entry.expect == "ok":
            assert response.status_code == 204, f"{entry.name}: {response.content!r}"
            assert len(after - before) == 1, entry.name
        else:
            assert response.status_code in (400, 422), f"{entry.name} ({entry.why}): {response.status_code}"
            message = response.json()["error"]
            assert message and response.json()["final"] is True, entry.name
            assert after == before, f"{entry.name} changed the mission"
            outcomes[entry.name] = message
    assert not list((Path(settings.MEDIA_ROOT) / "uploads").glob("*.part"))
    assert "is empty" in outcomes["zero_bytes"]
    assert "has no video stream" in outcomes["audio_only"]
    assert "still image" in outcomes["image_renamed"]
    assert "truncated or corrupt" in outcomes["truncated_index_at_end"]
    hostile = Video.objects.get(original_name="etc passwd.mp4")  # the last component of "<script>…..\\..\\etc passwd.mp4"
    assert hostile.file == f"videos/{hostile.pk}/original.mp4"
