"""Failed-login throttling: a counter per (username, address) in the cache, expiring after a window."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def _key(username: str, ip: str) -> str:
    return f"login-failures:{username.lower()[:150]}:{ip}"


def is_locked(username: str, ip: str) -> bool:
    return cache.get(_key(username, ip), 0) >= settings.LOGIN_FAILURE_LIMIT


def record_failure(username: str, ip: str) -> None:
    key = _key(username, ip)
    if cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def clear(username: str, ip: str) -> None:
    cache.delete(_key(username, ip))
