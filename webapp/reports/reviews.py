"""Saving analysts' verdicts on events. A confirmed or dismissed event is a label the next training run reads
(Event.review: confirmed = anomalous span, dismissed = normal span, unreviewed = unknown). Every page and the
inbox's undo record a verdict through `review_event` (one event) or `review_many` (the report's bulk form)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from webapp.catalog.labelling import clean_class
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


def checked_class(anomaly_class: str) -> str:
    try:
        return clean_class(anomaly_class)
    except ValidationError as error:
        raise ReviewError(error.messages[0]) from None


def review_event(event: Event, review: str, user, note: str | None = None, anomaly_class: str | None = None) -> Event:
    """Record one verdict (and the note and class, when given) with who gave it and when.

    Only a confirmed event has a class: confirming keeps the event's class unless one is given, any other
    verdict clears it. Sending back an event's previous review, note and class is how a verdict is undone."""
    check_verdict(review, note or "")
    anomaly_class = checked_class(anomaly_class) if anomaly_class is not None else None
    event.review = review
    event.reviewer = user if review != Event.Review.UNREVIEWED else None
    event.reviewed_at = timezone.now() if review != Event.Review.UNREVIEWED else None
    fields = ["review", "reviewer", "reviewed_at", "anomaly_class"]
    if review != Event.Review.CONFIRMED:
        event.anomaly_class = ""
    elif anomaly_class is not None:
        event.anomaly_class = anomaly_class
    if note is not None:
        event.note = note
        fields.append("note")
    event.save(update_fields=fields)
    return event


def review_many(events, review: str, user) -> int:
    """The same verdict on many events (a queryset) in one update; returns how many changed."""
    check_verdict(review)
    reviewed = review != Event.Review.UNREVIEWED
    changes = {"review": review, "reviewer": user if reviewed else None,
               "reviewed_at": timezone.now() if reviewed else None}
    if review != Event.Review.CONFIRMED:
        changes["anomaly_class"] = ""
    return events.update(**changes)


def review_counts(events) -> dict[str, int]:
    """How many of `events` (a queryset) are unreviewed, confirmed and dismissed, and in all: one query."""
    counts = events.order_by().aggregate(
        total=Count("pk"), **{state: Count("pk", filter=Q(review=state)) for state in Event.Review.values})
    return {key: counts[key] or 0 for key in (*Event.Review.values, "total")}


def event_json(event: Event) -> dict:
    return {"id": event.pk, "review": event.review, "note": event.note, "anomaly_class": event.anomaly_class,
            "reviewer": event.reviewer.get_username() if event.reviewer else None,
            "reviewed_at": event.reviewed_at.isoformat() if event.reviewed_at else None}


def reviews_since_training(detector) -> int:
    """How many events of the detector's area were confirmed or dismissed after it was trained (all of them for
    one not trained yet): the labels a retraining would add."""
    events = Event.objects.filter(score_run__video__mission__area=detector.area_id,
                                  review__in=[Event.Review.CONFIRMED, Event.Review.DISMISSED])
    if detector.trained is not None:
        events = events.filter(reviewed_at__gt=detector.trained)
    return events.count()
