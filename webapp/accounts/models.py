"""Failed-login counters in the database, so that every web process (gunicorn runs several) sees the same count."""

from __future__ import annotations

from django.db import models


class LoginFailures(models.Model):
    """Failed logins for one username or one client address since `window_start`.

    The key is a sha256 digest, not the text: people type passwords into the username box.
    """

    class Scope(models.TextChoices):
        USERNAME = "username", "Username"
        ADDRESS = "address", "Client address"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key_digest = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key_digest"], name="one_counter_per_key")]

    def __str__(self) -> str:
        return f"{self.failures} failed login(s) for a {self.scope} since {self.window_start:%Y-%m-%d %H:%M}"
