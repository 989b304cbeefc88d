"""Hostile values in every path converter and every query parameter of every URL: never a 500.

The URLs come from walking Django's resolver, so a new urls.py entry is fuzzed without anyone listing it.
Each converter gets huge numbers, non-digits, NUL, a 300-character string and negative numbers while the
other parts of the path name real seeded objects (so the view runs past its get_object_or_404); then every
GET URL gets each query parameter its view reads (recorded as it reads them), one at a time, with such
values. All as an admin,
who may see and do everything. The test client re-raises a view's exception, so a 500 fails the test
with its traceback.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver

from tests.support.seed import make_user, seed_scored_video
from webapp.catalog.models import Area, AreaMask, LabelInterval, Mission
from webapp.detectors.models import Event
from webapp.jobs.models import Job
from webapp.live.models import LiveStream
from webapp.uploads.models import UploadSession

pytestmark = pytest.mark.django_db

HOSTILE = [
    "99999999999999999999999", str(2**63), str(2**64), "9" * 400, "-1", "-99999999999999999999", "abc", "1.5",
    "1e400", "nan", "\x00", "a\x00b", "x" * 300, "²", "١٢", "%", "../../etc/passwd",
]
# The hostile values of a query parameter: the kinds above, fewer of each, as there are many more of them.
QUERY_HOSTILE = ["99999999999999999999999", "-1", "abc", "1e400", "\x00", "x" * 300, "²"]
TOKEN = re.compile(r"<(?:(\w+):)?(\w+)>")


def routes(resolver=None, prefix: str = ""):
    """(route, pattern) for every path() of the project, outside Django's own admin."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


@pytest.fixture
def names_read(monkeypatch):
    """The query parameter names the code reads (request.GET and DRF's query_params are one QueryDict)."""
    seen: set[str] = set()
    for method in ("get", "__getitem__", "getlist", "__contains__"):
        original = getattr(QueryDict, method)

        def recording(self, key, *args, _original=original):
            seen.add(key)
            return _original(self, key, *args)

        monkeypatch.setattr(QueryDict, method, recording)
    return seen


@pytest.fixture
def real_values(client):
    """The value each converter takes to name a real object, keyed by the path segment before it."""
    admin = make_user("ada", "admin")
    client.force_login(admin)
    area = Area.objects.create(name="North reef")
    mission = Mission.objects.create(area=area, name="Patrol 1", date="2026-06-01")
    seeded = seed_scored_video(mission)
    run = seeded.runs["cae"]
    job = Job.objects.create(kind=Job.Kind.EXPORT, mission=mission, state=Job.State.SUCCEEDED)
    upload = UploadSession.objects.create(mission=mission, filename="a.mp4", length=10, created_by=admin)
    stream = LiveStream.objects.create(mission=mission, url="tcp://127.0.0.1:9", video=seeded.video,
                                       detector=run.detector, state=LiveStream.State.ENDED)
    mask = AreaMask.objects.create(area=area, points=[[0, 0], [0.5, 0], [0, 0.5]])
    ids = {
        "areas": area.pk, "missions": mission.pk, "videos": seeded.video.pk, "detectors": run.detector_id,
        "intervals": LabelInterval.objects.filter(video=seeded.video).first().pk, "runs": run.pk,
        "events": Event.objects.filter(score_run=run).first().pk, "jobs": job.pk, "evaluations": job.pk,
        "exports": job.pk, "heatmaps": 0, "frames": 0, "recon": 1, "uploads": upload.pk, "mosaics": job.pk,
        "level-": 0, "tiles": 0, "x": 0, "y": 0, "live": stream.pk, "masks": mask.pk,
    }
    return {segment: str(value) for segment, value in ids.items()}


def fill(route: str, real: dict[str, str], hostile_at: int | None = None, hostile: str = "") -> str:
    """The route with each <converter:name> replaced by a real value, or `hostile` at token `hostile_at`."""
    parts = []
    position = 0
    for index, match in enumerate(TOKEN.finditer(route)):
        parts.append(route[position:match.start()])
        converter = match.group(1) or "str"
        if index == hostile_at:
            parts.append(hostile)
        elif converter in ("str", "path"):
            parts.append("poster.jpg")
        else:
            segment = route[:match.start()].rstrip("/").rsplit("/", 1)[-1]
            segment = segment if segment in real else match.group(2)  # else by its name: a tile's x and y
            assert segment in real, f"add a real value for the {converter} after {segment!r} in {route}"
            parts.append(real[segment])
        position = match.end()
    return "/" + "".join(parts) + route[position:]


def test_every_path_converter_refuses_hostile_values_without_a_500(client, real_values):
    checked = 0
    for route, _pattern in routes():
        for index, _token in enumerate(TOKEN.finditer(route)):
            for value in HOSTILE:
                url = fill(route, real_values, index, quote(value, safe=""))
                for method in (client.get, client.post):
                    response = method(url)
                    assert response.status_code < 500, (url, response.status_code)
                    checked += 1
    assert checked > 1000  # the walk found the project's URLs


def test_every_query_parameter_refuses_hostile_values_without_a_500(client, real_values, names_read):
    checked = set()
    for route, _pattern in routes():
        url = fill(route, real_values)
        names_read.clear()
        if client.get(url).status_code >= 400:  # POST only, or no such object: the query is never read
            continue
        for name in sorted(names_read):
            for value in QUERY_HOSTILE:
                response = client.get(url, {name: value})
                assert response.status_code < 500, (url, name, value, response.status_code)
            checked.add(name)
    assert {"mission", "area", "video", "detector", "review", "limit", "offset", "event", "t"} <= checked


def test_an_id_too_big_for_the_database_is_a_400_with_its_name(client, real_values):
    for url in ("/api/videos/?mission=abc", "/api/missions/?area=1.5", "/api/events/?video=abc",
                f"/jobs/status.json?mission={10**23}", f"/api/events/?mission={2**63}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "must be a whole number from 1 to" in response.json()["detail"]


def test_a_path_id_too_big_for_the_database_is_a_404(client, real_values):
    for url in (f"/missions/{10**23}/", f"/api/missions/{2**63}/", f"/jobs/{2**64}/cancel", "/api/videos/-1/"):
        assert client.get(url).status_code == 404, url


def test_a_report_filter_too_big_for_the_database_is_a_400_that_says_so(client, real_values):
    url = f"/missions/{real_values['missions']}/report/"
    response = client.get(url, {"detector": str(10**23)})
    assert response.status_code == 400 and "detector must be a whole number" in response.content.decode()
    assert client.get(url + "events.csv", {"detector": "abc"}).status_code == 400



def test_every_number_in_a_path_is_bounded_to_64_bits():
    unbounded = [route for route, _ in routes() if "<int:" in route]
    assert not unbounded, f"use <id:...> (webapp.core.converters) in {unbounded}"
