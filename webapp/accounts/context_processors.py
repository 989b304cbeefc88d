from webapp.accounts.roles import ADMIN, ANALYST, has_role, role_of


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_role": None, "can_edit": False, "is_admin": False}
    return {"user_role": role_of(user), "can_edit": has_role(user, ANALYST), "is_admin": has_role(user, ADMIN)}
