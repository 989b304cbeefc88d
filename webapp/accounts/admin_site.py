"""The admin site, with the same login throttling as the site's own login page (it had none)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator

from webapp.accounts.forms import ThrottledAdminAuthenticationForm, with_lockout_status


class ThrottledAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    @method_decorator(login_not_required)  # as on AdminSite.login, which this overrides
    def login(self, request, extra_context=None):
        return with_lockout_status(super().login(request, extra_context))
