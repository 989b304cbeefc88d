"""Roles for test users: a Membership of a team (the default team, where areas go unless given one)."""

from __future__ import annotations

from webapp.accounts.models import Membership, Team, default_team


def give_role(user, role: str, team: Team | None = None) -> Membership:
    """Make `user` a `role` (viewer, analyst, admin) of `team`, or of the default team."""
    team_id = team.pk if team is not None else default_team()
    return Membership.objects.update_or_create(user=user, team_id=team_id, defaults={"role": role})[0]
