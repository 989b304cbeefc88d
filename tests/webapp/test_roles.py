"""The role matrix: every URL in the resolver, requested as anonymous, no-role, viewer, analyst and admin, and
as an analyst of another team (`stranger`).

URLs are read from Django's resolver, so a new URL is checked as soon as it exists. Its arguments come
from one seeded catalog (`world` and `arguments`, tests/support/routes.py); its expected statuses from `GET_EXPECTED` and the write rules below.
A new URL that needs something else fails here with a message saying what to add.

Rules: anonymous users are sent to the login page (401/403 on the API); logged-in users without a role get
403; viewers read (GET) but every write is refused (403, or 405 where the URL takes no writes); analysts
write except where `ADMIN_WRITES` says only admins may. Writes by analysts and admins that are allowed are
not sent (they would start jobs); their behaviour is covered by each app's own tests.

Teams: every object of the seeded catalog belongs to the default team, where viewer, analyst and admin hold
their roles. The stranger is an analyst of another team, which has an area of its own: every URL about one
of the default team's objects (pages, JSON, media files, exports, uploads, the API) answers them 404, reads
and writes alike (405 where the URL takes no such method); pages that are not about one object behave as
for an analyst, and never show the default team's area, missions or videos.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.routes import ROUTES, WRITE_METHODS, Route, arguments, world  # noqa: F401 - `world` is a fixture
from tests.support.teams import give_role
from tests.webapp.catalog_actors import login, make_user
from webapp.accounts.models import Team
from webapp.catalog.models import Area, Mission

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "viewer", "analyst", "admin", "stranger")
# Public: the login page, the health check, and the plotly.js library file (no data in it).
PUBLIC = {"login", "healthz", "plotly_js"}
# Pages a logged-in user without a role may open: the dashboard says to ask for a role, and shows no data.
ROLELESS_PAGES = {"dashboard"}
LOGIN = "login-redirect"
# GET status per (viewer, analyst, admin) where it is not 200 for all three.
POST_ONLY = (405, 405, 405)
GET_EXPECTED = {
    "logout": POST_ONLY,
    "area_train": POST_ONLY,
    "detector_active": POST_ONLY,
    "detector_evaluate": POST_ONLY,
    "detector_threshold": POST_ONLY,
    "detector_retrain": POST_ONLY,
    "area_mask_delete": POST_ONLY,
    "mission_export": POST_ONLY,
    "mission_score": POST_ONLY,
    "mission_delete": POST_ONLY,
    "video_delete": POST_ONLY,
    "video_label": POST_ONLY,
    "video_reference": POST_ONLY,
    "interval_delete": POST_ONLY,
    "interval_update": POST_ONLY,
    "upload_create": POST_ONLY,
    "upload": POST_ONLY,
    "job_cancel": POST_ONLY,
    "job_retry": POST_ONLY,
    "mission_create": (403, 200, 200),
    "area_import": (403, 200, 200),
    "mission_report_review": POST_ONLY,
    "event_review": POST_ONLY,
    "api_mission_score": POST_ONLY,
    "api_upload_create": POST_ONLY,
    "api_upload": POST_ONLY,
    "mission_telemetry": POST_ONLY,
    "video_telemetry": POST_ONLY,
    "area_mosaic_build": POST_ONLY,
    "area_map_mask": POST_ONLY,
    "live_start": POST_ONLY,
    "live_stop": POST_ONLY,
    "event_heatmap": (302, 302, 302),  # redirects readers to the heatmap view of the event's peak frame
}
API_PAGES = {"api_token", "api_docs"}  # HTML pages under /api/: anonymous users go to the login page
ANYONE_WRITES = {("logout", "POST")}
VIEWER_WRITES = {("api_token", "POST")}
ADMIN_WRITES = {
    ("areas", "POST"), ("api_areas", "POST"),  # a new area goes to a team its creator is admin of
    ("area_train", "POST"), ("detector_active", "POST"), ("detector_evaluate", "POST"), ("detector_threshold", "POST"),
    ("detector_retrain", "POST"), ("mission_delete", "POST"), ("video_delete", "POST"),
    ("api_mission", "DELETE"), ("api_video", "DELETE"), ("api_area_detectors", "POST"),
}


def clients(users) -> dict[str, Client]:
    return {"anonymous": Client(), **{role: login(user) for role, user in users.items()}}


@pytest.fixture
def stranger(db):
    """An analyst of another team, which has an area and a mission of its own."""
    team = Team.objects.create(name="South team")
    area = Area.objects.create(name="South Reef", team=team)
    Mission.objects.create(area=area, name="Noon patrol", date=dt.date(2026, 11, 29))
    user = make_user("sven", None)
    give_role(user, "analyst", team)
    return user


@pytest.fixture
def actors(outsider, viewer, analyst, admin, stranger):
    return clients({"outsider": outsider, "viewer": viewer, "analyst": analyst, "admin": admin, "stranger": stranger})


def send(client: Client, method: str, url: str):
    headers = {"Tus-Resumable": "1.0.0"}
    return getattr(client, method.lower())(url, headers=headers)


def refused_anonymous(route: Route, response) -> str | None:
    """None if an anonymous request was refused the right way, else what went wrong."""
    if route.pattern.startswith("api/") and route.name not in API_PAGES:
        if response.status_code not in (401, 403):
            return f"anonymous got {response.status_code}"
    elif response.status_code != 302 or not response["Location"].startswith(reverse("login")):
        return f"anonymous got {response.status_code}, not a redirect to the login page"
    return None


def about_one_object(route: Route) -> bool:
    return bool(route.params)


def stranger_read_problem(route: Route, response, expected: tuple, secrets) -> str | None:
    """None if another team's analyst got what they should: 404 for one of our objects, else an analyst's
    answer without any of our area's names in it."""
    code = response.status_code
    if about_one_object(route):
        wanted = {405} if 405 in expected else {404}
        return None if code in wanted else f"another team's analyst got {code}, not {wanted}"
    if code != expected[1]:
        return f"another team's analyst got {code}, an analyst {expected[1]}"
    leaked = [name for name in secrets if name.encode() in response.content]
    return f"another team's analyst sees {leaked}" if leaked else None


def read_problems(route: Route, url: str, actors) -> list[str]:
    got = {role: send(actors[role], "GET", url) for role in ROLES}
    if route.name in PUBLIC:
        codes = {got[r].status_code for r in ROLES}
        return [] if codes <= {200, 503} else [f"public page answered {codes}"]
    problems = [refused_anonymous(route, got["anonymous"])]
    expected = GET_EXPECTED.get(route.name, (200, 200, 200))
    problems.append(stranger_read_problem(route, got["stranger"], expected, actors["secrets"]))
    outsider_ok = {200} if route.name in ROLELESS_PAGES else {403} | ({405} & set(expected))
    if got["outsider"].status_code not in outsider_ok:
        problems.append(f"a user without a role got {got['outsider'].status_code}")
    actual = tuple(got[r].status_code for r in ("viewer", "analyst", "admin"))
    if actual != expected:
        problems.append(f"viewer/analyst/admin got {actual}, expected {expected} (see GET_EXPECTED)")
    return [p for p in problems if p]


def write_problems(route: Route, url: str, actors) -> list[str]:
    problems = []
    for method in WRITE_METHODS.get(route.name, ("POST",)):
        if route.name in PUBLIC or (route.name, method) in ANYONE_WRITES:
            continue
        anonymous = refused_anonymous(route, send(actors["anonymous"], method, url))
        problems.append(anonymous and f"{method}: {anonymous}")
        outsider = send(actors["outsider"], method, url).status_code
        problems.append(outsider not in (403, 405) and f"{method} by a user without a role: {outsider}")
        stranger = send(actors["stranger"], method, url).status_code
        if about_one_object(route):
            problems.append(stranger not in (404, 405) and f"{method} by another team's analyst: {stranger}, not 404")
        elif (route.name, method) in ADMIN_WRITES:
            problems.append(stranger != 403 and f"{method} by another team's analyst: {stranger} (admins only)")
        if (route.name, method) in VIEWER_WRITES:
            continue
        viewer = send(actors["viewer"], method, url).status_code
        problems.append(viewer not in (403, 405) and f"{method} by a viewer: {viewer}")
        if (route.name, method) in ADMIN_WRITES:
            analyst = send(actors["analyst"], method, url).status_code
            problems.append(analyst != 403 and f"{method} by an analyst: {analyst} (admins only)")
    return [p for p in problems if p]


def matrix(world, actors, check) -> list[str]:  # noqa: F811 - the fixture's value
    failures = []
    actors = {**actors, "secrets": (world["mission"].area.name, world["mission"].name, world["video"].original_name)}
    for route in ROUTES:
        url = reverse(route.name, kwargs=arguments(route, world))
        if route.name == "healthz":
            url += "?workers=0"  # pinging workers waits for a timeout; access is what is checked here
        failures += [f"{route.name} ({url}): {problem}" for problem in check(route, url, actors)]
    return failures


def test_every_url_reads_only_for_roles_that_may_see_it(world, actors):  # noqa: F811
    failures = matrix(world, actors, read_problems)
    assert not failures, "\n".join(failures)


def test_every_url_refuses_writes_to_roles_that_may_not_write(world, actors):  # noqa: F811
    failures = matrix(world, actors, write_problems)
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_the_catalog_upload_media_and_api_urls():
    names = {r.name for r in ROUTES}
    assert {"mission", "video", "upload", "video_media", "api_missions", "api_upload", "api_token"} <= names


def test_a_user_without_a_role_sees_no_data_on_the_dashboard(outsider, mission):
    page = login(outsider).get(reverse("dashboard")).content.decode()
    assert "Your account has no role yet" in page and mission.name not in page
