"""Areas belong to teams (issue 18): every existing area goes to the default team, whose members are the
users who held a global role before (accounts 0004)."""

import django.db.models.deletion
from django.db import migrations, models

import webapp.accounts.models

DEFAULT_TEAM = "Default team"


def areas_to_default_team(apps, schema_editor):
    Area = apps.get_model("catalog", "Area")
    Team = apps.get_model("accounts", "Team")
    if Area.objects.filter(team__isnull=True).exists():
        team, _ = Team.objects.get_or_create(name=DEFAULT_TEAM)
        Area.objects.filter(team__isnull=True).update(team=team)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_group_roles_to_memberships"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="area",
            name="team",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="areas",
                                    to="accounts.team"),
        ),
        migrations.RunPython(areas_to_default_team, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="area",
            name="team",
            field=models.ForeignKey(default=webapp.accounts.models.default_team,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="areas",
                                    to="accounts.team"),
        ),
    ]
