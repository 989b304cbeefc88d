"""Saving analysts' verdicts on events. A confirmed or dismissed event is a label the next training run reads
(Event.review: confirmed = anomalous span, dismissed = normal span, unreviewed = unknown)."""

from __future__ import annotations

from django.utils import timezone

from webapp.detectors.models import Event

VERDICTS = {choice.value for choice in Event.Review}
NOTE_MAX = 2000


class ReviewError(ValueError):
    """A review that cannot be saved, with the reason in words."""


def check_verdict(review: str, note: str = "") -> None:
    if review not in VERDICTS:
        raise ReviewError(f"unknown review {review!r}: use one of {', '.join(sorted(VERDICTS))}")
    if len(note) > NOTE_MAX:
        raise ReviewError(f"the note is {len(note)} characters; at most {NOTE_MAX}")


def review_event(event: Event, review: str, user, note: str | None = None) -> Event:
    """Record one verdict (and the note, when given) with who gave it and when."""
    check_verdict(review, note or "")
    event.review = review
    event.reviewer = user if review != Event.Review.UNREVIEWED else None
    event.reviewed_at = timezone.now() if review != Event.Review.UNREVIEWED else None
    fields = ["review", "reviewer", "reviewed_at"]
    if note is not None:
        event.note = note
        fields.append("note")
    event.save(update_fields=fields)
    return event


def review_many(events, review: str, user) -> int:
    """The same verdict on many events (a queryset) in one update; returns how many changed."""
    check_verdict(review)
    reviewed = review != Event.Review.UNREVIEWED
    return events.update(review=review, reviewer=user if reviewed else None,
                         reviewed_at=timezone.now() if reviewed else None)


def event_json(event: Event) -> dict:
    return {"id": event.pk, "review": event.review, "note": event.note,
            "reviewer": event.reviewer.get_username() if event.reviewer else None,
            "reviewed_at": event.reviewed_at.isoformat() if event.reviewed_at else None}
