"""Roles within teams: viewer reads, analyst works, admin manages. One place decides them.

Every area belongs to a team; a user's role in an area is their Membership role in its team
(`role_in_team`). Site admins (superusers and the `admin` group) hold the admin role in every team. A user's
role on pages that are not about one area (the nav, the lists, "may I create a mission at all") is their
highest role in any team (`role_of`); lists show only the user's teams' rows (`visible`).
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from webapp.accounts.models import Membership

VIEWER, ANALYST, ADMIN = "viewer", "analyst", "admin"
RANK = {VIEWER: 1, ANALYST: 2, ADMIN: 3}
SITE_ADMIN_GROUP = ADMIN


def is_site_admin(user) -> bool:
    """Superusers and members of the `admin` group see and manage every team's areas."""
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_skerry_site_admin"):
        user._skerry_site_admin = user.is_superuser or user.groups.filter(name=SITE_ADMIN_GROUP).exists()
    return user._skerry_site_admin


def team_roles(user) -> dict[int, str]:
    """{team id: role} of the user's memberships (cached on the user object for the request)."""
    if not user.is_authenticated:
        return {}
    if not hasattr(user, "_skerry_team_roles"):
        user._skerry_team_roles = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
    return user._skerry_team_roles


def role_in_team(user, team_id: int | None) -> str | None:
    """The one answer to "what may this user do with this team's areas": their role there, admin for site
    admins, None for everyone else (who must not learn that the area exists: 404)."""
    if is_site_admin(user):
        return ADMIN
    return team_roles(user).get(team_id) if team_id is not None else None


def role_of(user) -> str | None:
    """The highest role a user holds in any team; admin for site admins. None for anonymous or teamless users."""
    if is_site_admin(user):
        return ADMIN
    held = team_roles(user).values()
    return max(held, key=RANK.__getitem__) if held else None


def role_allows(held: str | None, role: str) -> bool:
    """Whether holding `held` (a role_of or role_in_team answer) grants `role`."""
    return held is not None and RANK[held] >= RANK[role]


def teams_where(user, role: str = VIEWER) -> list[int] | None:
    """Ids of the teams where the user holds at least `role`; None means every team (a site admin)."""
    if is_site_admin(user):
        return None
    return [team for team, held in team_roles(user).items() if role_allows(held, role)]


def visible(queryset, user, *team_paths: str):
    """The rows of `queryset` whose team (reached by any of `team_paths`, e.g. "mission__area__team") is one of
    the user's; everything for site admins, nothing for anonymous users."""
    teams = teams_where(user)
    if teams is None:
        return queryset
    match = Q()
    for path in team_paths:
        match |= Q(**{f"{path}__in": teams})
    return queryset.filter(match) if teams else queryset.none()


def has_role(user, role: str) -> bool:
    return role_allows(role_of(user), role)


def require_role(user, role: str) -> None:
    if not has_role(user, role):
        raise PermissionDenied(f"this needs the {role} role")


def role_required(role: str):
    """View decorator: 403 unless the logged-in user holds at least `role` in some team."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require_role(request.user, role)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
