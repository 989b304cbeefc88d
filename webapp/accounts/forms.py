"""Login forms that check and count failures (see throttle.py), for the site's login page and the admin's."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from webapp.accounts import throttle

LOCKED = "login_locked"


class ThrottledLoginMixin:
    """Refuses a locked login before checking the password, counts a wrong one, forgets the count on success.
    Living in the form, it covers every login view that uses it, whatever the view does around it."""

    lockout: throttle.Lockout | None = None

    def clean(self):
        username, address = self.data.get("username", ""), throttle.client_address(self.request)
        self.lockout = throttle.lockout(username, address)
        if self.lockout:
            raise ValidationError(self.lockout.message(), code=LOCKED)
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure(username, address)
            raise
        if self.get_user() is not None:
            throttle.clear(self.get_user().get_username())
        return cleaned

    @property
    def is_locked(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, LOCKED)


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


def with_lockout_status(response):
    """A login page showing a lockout answers 429 Too Many Requests, with Retry-After in seconds."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if isinstance(form, ThrottledLoginMixin) and form.is_locked:
        response.status_code = 429
        response["Retry-After"] = str(form.lockout.retry_after_seconds)
    return response
