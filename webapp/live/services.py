"""Starting and stopping a mission's live stream: the one place pages and the API go through."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from webapp.jobs.models import Job
from webapp.jobs.services import start_live
from webapp.live.models import LISTEN_SCHEMES, LiveStream, clean_stream_url


def start_stream(mission, url: str, *, listen: bool = False, user=None) -> tuple[LiveStream, Job]:
    """Give the mission a live stream from `url` (or listening on it) and start the live job.

    ValidationError for a URL Skerry cannot use, or when the mission's stream is already under way.
    """
    url = clean_stream_url(url)
    if listen and url.split(":", 1)[0].lower() not in LISTEN_SCHEMES:
        raise ValidationError(f"Skerry can listen for a pushed stream on {', '.join(LISTEN_SCHEMES)} URLs only")
    with transaction.atomic():
        type(mission).objects.select_for_update().filter(pk=mission.pk).first()
        if LiveStream.objects.filter(mission=mission, state__in=LiveStream.ACTIVE_STATES).exists():
            raise ValidationError("this mission's live stream is already under way; stop it first")
        stream = LiveStream.objects.create(mission=mission, url=url, listen=listen)
        job = start_live(mission, user=user)
    return stream, job


def stop_stream(stream: LiveStream) -> bool:
    """Ask the worker to end the stream now (it then joins and ingests the recording); False if not running."""
    return LiveStream.objects.filter(pk=stream.pk, state__in=LiveStream.ACTIVE_STATES).update(stop_requested=True) == 1
