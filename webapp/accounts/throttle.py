"""Failed-login throttling, counted twice: per username as the login backend will look it up, and per client address.

Keying on the name as typed let "sec_viewer " or a full-width "ｓec_viewer" log in as sec_viewer with fresh
tries, because Django's login form strips and NFKC-normalises the name before the backend looks it up
(case is kept: the backend matches it exactly). So the counter keys on the form's own cleaning of the name.
The address counter stops one client spraying many names. The counts live in the database (LoginFailures),
not in a per-process cache, so all web processes see them. A window starts at the first failure; when it has
passed, the counter starts again. A failure is counted after its password check, so tries sent at the same
moment all pass the check: the bound is the limit plus the number of requests the site serves at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.forms import UsernameField
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from webapp.accounts.models import LoginFailures

Scope = LoginFailures.Scope


@dataclass(frozen=True)
class Lockout:
    """Logins are refused for `scope` until `until`."""

    scope: str
    until: datetime

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.until - timezone.now()).total_seconds()) + 1)

    def message(self) -> str:
        who = "this username" if self.scope == Scope.USERNAME else "your network address"
        minutes = -(-self.retry_after_seconds // 60)
        return (f"Too many failed logins for {who}. Try again after {self.until:%H:%M} UTC "
                f"(in {minutes} minute{'s' if minutes != 1 else ''}).")


def normalised_username(raw: str | None) -> str:
    """The name as AuthenticationForm hands it to the backend: stripped, then NFKC-normalised."""
    return UsernameField().to_python(raw)


def client_address(request) -> str:
    """REMOTE_ADDR, or behind our proxy (DJANGO_BEHIND_PROXY) the last X-Forwarded-For entry: the address
    the proxy itself saw. Entries before it are whatever the client chose to send."""
    if settings.BEHIND_PROXY:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _keys(username: str, address: str) -> dict[str, str]:
    return {Scope.USERNAME: _digest(normalised_username(username)), Scope.ADDRESS: _digest(address)}


def _limit(scope: str) -> int:
    return settings.LOGIN_FAILURE_LIMIT if scope == Scope.USERNAME else settings.LOGIN_ADDRESS_FAILURE_LIMIT


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def lockout(username: str, address: str) -> Lockout | None:
    """The lockout that refuses this login now (the one lasting longest), or None."""
    current = Q()
    for scope, digest in _keys(username, address).items():
        current |= Q(scope=scope, key_digest=digest)
    window = _window()
    rows = LoginFailures.objects.filter(current, window_start__gt=timezone.now() - window)
    locks = [Lockout(row.scope, row.window_start + window) for row in rows if row.failures >= _limit(row.scope)]
    return max(locks, key=lambda lock: lock.until, default=None)


def _count(scope: str, digest: str, now: datetime) -> None:
    counter = LoginFailures.objects.filter(scope=scope, key_digest=digest)
    if counter.filter(window_start__gt=now - _window()).update(failures=F("failures") + 1):
        return
    if counter.update(failures=1, window_start=now):  # the old window has passed: start a new one
        return
    try:
        with transaction.atomic():
            LoginFailures.objects.create(scope=scope, key_digest=digest, failures=1, window_start=now)
    except IntegrityError:  # another process created it first
        counter.update(failures=F("failures") + 1)


def record_failure(username: str, address: str) -> None:
    """Count one failed login against the username and against the address; drop counters whose window ended."""
    now = timezone.now()
    LoginFailures.objects.filter(window_start__lte=now - _window()).delete()
    for scope, digest in _keys(username, address).items():
        _count(scope, digest, now)


def clear(username: str) -> None:
    """Forget the username's failures after a good login. The address keeps its count: else logging in to
    one's own account between guesses would reset it."""
    LoginFailures.objects.filter(scope=Scope.USERNAME, key_digest=_digest(normalised_username(username))).delete()
