"""Failed-login counters (shared by every web process), and teams: who may see which areas, in which role."""

from __future__ import annotations

from django.conf import settings
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


DEFAULT_TEAM = "Default team"


class Team(models.Model):
    """A group of people who share areas; every area belongs to one team, and members see only their teams' areas."""

    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_team() -> int:
    """The id of the team that areas created without one (import_dataset, scripts) belong to."""
    return Team.objects.get_or_create(name=DEFAULT_TEAM)[0].pk


class Membership(models.Model):
    """A user's role within one team: viewer reads, analyst works, admin manages the team's areas."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        ANALYST = "analyst", "Analyst"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["team", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.team}"
