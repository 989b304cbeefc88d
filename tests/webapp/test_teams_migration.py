"""The teams migration on existing rows: areas go to the default team, global group roles become memberships of it.

Migrates the real database back to before teams, writes rows as a deployment of that time had them, migrates
forward and reads the result; then migrates to the latest state again for the tests that follow.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0002_login_failures"), ("catalog", "0001_initial")]
AFTER = [("accounts", "0004_group_roles_to_memberships"), ("catalog", "0002_area_team")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema():
    yield migrate(BEFORE)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


# Serialized rollback: the tests after this one find the database's first rows (content types...) as they were.
@pytest.mark.django_db(transaction=True)
def test_existing_areas_and_group_roles_move_into_the_default_team(old_schema):
    apps = old_schema
    Group, User, Area = apps.get_model("auth", "Group"), apps.get_model("auth", "User"), apps.get_model("catalog", "Area")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("viewer", "analyst", "admin")}
    people = {name: User.objects.create(username=name) for name in ("vera", "anna", "adam", "both", "otto")}
    for name, group in (("vera", "viewer"), ("anna", "analyst"), ("adam", "admin"), ("both", "viewer"),
                        ("both", "analyst")):
        groups[group].user_set.add(people[name])
    Area.objects.create(name="North Skerries")
    Area.objects.create(name="South Reef")

    apps = migrate(AFTER)
    Team, Membership = apps.get_model("accounts", "Team"), apps.get_model("accounts", "Membership")
    Area, Group = apps.get_model("catalog", "Area"), apps.get_model("auth", "Group")
    default = Team.objects.get(name="Default team")
    assert set(Area.objects.values_list("team", flat=True)) == {default.pk}
    roles = dict(Membership.objects.filter(team=default).values_list("user__username", "role"))
    assert roles == {"vera": "viewer", "anna": "analyst", "adam": "admin", "both": "analyst"}
    # Only the admin group still means something (site admins); the others no longer grant anything.
    assert list(Group.objects.get(name="admin").user_set.values_list("username", flat=True)) == ["adam"]
    assert not Group.objects.filter(name__in=("viewer", "analyst"), user__isnull=False).exists()
