"""Resumable upload sessions (tus protocol): bytes land in media/uploads/<uuid>.part until complete."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class UploadSession(models.Model):
    class State(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        COMPLETE = "complete", "Complete"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mission = models.ForeignKey("catalog.Mission", on_delete=models.CASCADE, related_name="uploads")
    filename = models.CharField(max_length=255)
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVING)
    error = models.TextField(blank=True)
    video = models.ForeignKey("catalog.Video", null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"upload {self.id} of {self.filename} ({self.offset}/{self.length})"

    @property
    def part_path(self) -> str:
        return f"uploads/{self.id}.part"
