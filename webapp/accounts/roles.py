"""Roles through Django groups: viewer reads, analyst works, admin manages. One place checks them."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

VIEWER, ANALYST, ADMIN = "viewer", "analyst", "admin"
RANK = {VIEWER: 1, ANALYST: 2, ADMIN: 3}
ROLE_GROUPS = (VIEWER, ANALYST, ADMIN)


def role_of(user) -> str | None:
    """The highest role a user holds; superusers are admins. None for anonymous or ungrouped users."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in (ADMIN, ANALYST, VIEWER):
        if role in names:
            return role
    return None


def role_allows(held: str | None, role: str) -> bool:
    """Whether holding `held` (a role_of answer) grants `role`; for lists, where role_of is asked once."""
    return held is not None and RANK[held] >= RANK[role]


def has_role(user, role: str) -> bool:
    return role_allows(role_of(user), role)


def require_role(user, role: str) -> None:
    if not has_role(user, role):
        raise PermissionDenied(f"this needs the {role} role")


def role_required(role: str):
    """View decorator: 403 unless the logged-in user holds at least `role`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require_role(request.user, role)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
