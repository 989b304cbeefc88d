"""Global group roles become memberships of the default team, so that existing deployments keep working.

Every user in the viewer, analyst or admin group becomes a member of "Default team" with the highest of those
roles. The viewer and analyst groups are then emptied (they no longer grant anything, and a group that
silently does nothing would mislead whoever edits it); the admin group stays: its members are site admins.
Going back puts each default-team member into the group of their role.
"""

from django.db import migrations

DEFAULT_TEAM = "Default team"
ORDER = ("admin", "analyst", "viewer")
TEAM_ONLY_GROUPS = ("viewer", "analyst")


def groups_to_memberships(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Team = apps.get_model("accounts", "Team")
    Membership = apps.get_model("accounts", "Membership")
    team, _ = Team.objects.get_or_create(name=DEFAULT_TEAM)
    best: dict[int, str] = {}
    for role in reversed(ORDER):  # lowest first, so a higher role overwrites it
        for user_id in Group.objects.filter(name=role).values_list("user", flat=True):
            if user_id is not None:
                best[user_id] = role
    for user_id, role in best.items():
        Membership.objects.update_or_create(user_id=user_id, team=team, defaults={"role": role})
    for group in Group.objects.filter(name__in=TEAM_ONLY_GROUPS):
        group.user_set.clear()


def memberships_to_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Membership = apps.get_model("accounts", "Membership")
    for membership in Membership.objects.filter(team__name=DEFAULT_TEAM):
        Group.objects.get_or_create(name=membership.role)[0].user_set.add(membership.user_id)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_teams"), ("accounts", "0001_role_groups")]
    operations = [migrations.RunPython(groups_to_memberships, memberships_to_groups)]
