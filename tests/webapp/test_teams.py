"""Teams: areas belong to teams, and a team's areas, missions, videos and jobs are its members' alone.

Named actors: the owner (admin of the North team), a teammate (analyst of the North team) and an outsider
(analyst of the South team). Every object here is the North team's, except what the South team brings.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.support.seed import seed_scored_video
from tests.support.teams import give_role
from tests.webapp.catalog_actors import login
from webapp.accounts.models import Team
from webapp.accounts.roles import ANALYST, role_in_team, role_of
from webapp.catalog.models import Area, Mission, Video
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(db):
    return Team.objects.create(name="North team")


@pytest.fixture
def south(db):
    return Team.objects.create(name="South team")


def member(name: str, role: str, team: Team) -> User:
    user = User.objects.create_user(name)
    give_role(user, role, team)
    return user


@pytest.fixture
def owner(north):
    return member("olga", "admin", north)


@pytest.fixture
def teammate(north):
    return member("tove", "analyst", north)


@pytest.fixture
def outsider(south):
    return member("ossi", "analyst", south)


@pytest.fixture
def north_mission(north):
    area = Area.objects.create(name="North Skerries", team=north)
    return Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28))


@pytest.fixture
def south_mission(south):
    area = Area.objects.create(name="South Reef", team=south)
    return Mission.objects.create(area=area, name="Noon patrol", date=dt.date(2026, 11, 29))


@pytest.fixture
def scored(north_mission):
    return seed_scored_video(north_mission, seconds=4.0, anomalies=((1.0, 3.0, "boat"),))


def token_client(user) -> Client:
    return Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})


def test_a_member_holds_their_team_role_and_nothing_in_other_teams(owner, teammate, outsider, north, south):
    assert role_in_team(teammate, north.pk) == "analyst" and role_in_team(teammate, south.pk) is None
    assert role_in_team(owner, north.pk) == "admin" and role_of(outsider) == "analyst"


def test_a_site_admin_is_admin_of_every_team(north, south, north_mission, south_mission):
    boss = User.objects.create_user("bo")
    boss.groups.add(Group.objects.get_or_create(name="admin")[0])
    assert role_in_team(boss, north.pk) == role_in_team(boss, south.pk) == "admin"
    areas = login(boss).get(reverse("areas")).content.decode()
    assert "North Skerries" in areas and "South Reef" in areas
    assert login(boss).get(reverse("mission", args=[south_mission.pk])).status_code == 200


def test_the_area_and_mission_lists_show_only_the_members_teams(teammate, outsider, north_mission, south_mission):
    areas = login(outsider).get(reverse("areas")).content.decode()
    assert "South Reef" in areas and "North Skerries" not in areas
    dashboard = login(outsider).get(reverse("dashboard")).content.decode()
    assert "Noon patrol" in dashboard and "Dawn patrol" not in dashboard
    assert "Dawn patrol" in login(teammate).get(reverse("dashboard")).content.decode()


def test_the_jobs_page_and_feed_show_only_the_members_teams_jobs(teammate, outsider, scored):
    job = Job.objects.create(kind=Job.Kind.INGEST, video=scored.video)
    feed = login(outsider).get(reverse("job_status"), {"mission": scored.video.mission_id}).json()
    assert feed["jobs"] == []
    assert f'data-job-id="{job.pk}"' not in login(outsider).get(reverse("jobs")).content.decode()
    assert [j["id"] for j in login(teammate).get(reverse("job_status")).json()["jobs"]] == [job.pk]


def test_it_answers_404_to_an_outsider_for_another_teams_objects(outsider, scored):
    client = login(outsider)
    video = scored.video
    job = Job.objects.create(kind=Job.Kind.INGEST, video=video, state=Job.State.FAILED)
    assert client.get(reverse("mission", args=[video.mission_id])).status_code == 404
    assert client.get(reverse("video_media", args=[video.pk, "frames.npy"])).status_code == 404
    assert client.post(reverse("job_retry", args=[job.pk])).status_code == 404
    assert client.post(reverse("mission_delete", args=[video.mission_id])).status_code == 404
    assert Mission.objects.filter(pk=video.mission_id).exists()


def test_it_refuses_with_403_a_role_too_low_within_ones_own_team(teammate, scored):
    assert login(teammate).post(reverse("mission_delete", args=[scored.video.mission_id])).status_code == 403


def test_the_api_gives_an_outsiders_token_404s_and_empty_lists(outsider, teammate, scored):
    api, video = token_client(outsider), scored.video
    assert api.get(reverse("api_mission", args=[video.mission_id])).status_code == 404
    assert api.get(reverse("api_video", args=[video.pk])).status_code == 404
    assert api.get(reverse("api_video_scores", args=[video.pk])).status_code == 404
    assert api.delete(reverse("api_video", args=[video.pk])).status_code == 404
    for name in ("api_areas", "api_missions", "api_videos", "api_events"):
        assert api.get(reverse(name)).json()["results"] == [], name
    assert api.get(reverse("api_videos"), {"mission": video.mission_id}).json()["results"] == []
    mine = token_client(teammate).get(reverse("api_videos")).json()["results"]
    assert [v["id"] for v in mine] == [video.pk]


def test_a_mission_cannot_be_created_in_another_teams_area(outsider, north_mission):
    north_area = north_mission.area
    api = token_client(outsider)
    body = {"area": north_area.pk, "name": "Sneaky", "date": "2026-12-01"}
    assert api.post(reverse("api_missions"), body, content_type="application/json").status_code == 400
    page = login(outsider).post(reverse("mission_create"), body)
    assert page.status_code == 200 and not Mission.objects.filter(name="Sneaky").exists()


def test_a_team_admin_creates_areas_only_in_their_own_teams(owner, north, south):
    client = login(owner)
    assert client.post(reverse("areas"), {"name": "Elsewhere", "team": south.pk}).status_code == 200
    assert not Area.objects.filter(name="Elsewhere").exists()
    client.post(reverse("areas"), {"name": "Home", "team": north.pk})
    assert Area.objects.get(name="Home").team == north
    api = token_client(owner)
    assert api.post(reverse("api_areas"), {"name": "Far"}, content_type="application/json").status_code == 400
    created = api.post(reverse("api_areas"), {"name": "Near", "team": north.pk}, content_type="application/json")
    assert created.status_code == 201 and Area.objects.get(name="Near").team == north


def test_missions_and_videos_inherit_their_team_through_the_area(teammate, north, north_mission):
    video = Video.objects.create(mission=north_mission, original_name="a.mp4")
    assert video.area.team == north
    assert role_in_team(teammate, video.area.team_id) == ANALYST


def test_site_admins_manage_teams_and_memberships_in_djangos_admin(north, teammate):
    boss = User.objects.create_superuser("root", password=None)
    client = login(boss)
    assert client.get(reverse("admin:accounts_team_change", args=[north.pk])).status_code == 200
    assert "tove" in client.get(reverse("admin:accounts_membership_changelist")).content.decode()
