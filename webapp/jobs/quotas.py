"""Caps on the heavy jobs (train, score, evaluate) queued or running at once, per user and per area.

Without them five training requests in a row queued five trainings, each hours of GPU time. Only requests
made by a person are capped: the demo, the workers (scoring after an ingest or a training) and management
commands start jobs without a user, and what they start follows from work already admitted. Jobs a person
asked to cancel no longer count. A job already under way on the same target is reused before any cap is
checked (see services.start_once), so asking twice never hits the cap.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from webapp.jobs.models import Job

HEAVY_KINDS = (Job.Kind.TRAIN, Job.Kind.SCORE, Job.Kind.EVALUATE)
HEAVY_WORDS = "training, scoring or evaluation jobs"


class JobLimitReached(Exception):
    """A person asked for more heavy jobs than the caps allow; the message says which cap and what to do."""


def area_of(*, video=None, mission=None, detector=None):
    """The area a job's target belongs to (None for a job without a target)."""
    if detector is not None:
        return detector.area
    if mission is not None:
        return mission.area
    return video.mission.area if video is not None else None


def heavy_jobs_under_way():
    return Job.objects.filter(kind__in=HEAVY_KINDS, state__in=Job.ACTIVE_STATES, cancel_requested=False)


def in_area(jobs, area):
    return jobs.filter(Q(detector__area=area) | Q(mission__area=area) | Q(video__mission__area=area))


def check_job_quota(kind, user, *, video=None, mission=None, detector=None) -> None:
    """Raise JobLimitReached if `user` may not start another heavy job on `target` now.

    Call it inside the transaction that creates the job: the user's and the area's rows are locked first, so
    that requests at once are counted one after the other (user before area, always). The locks are FOR NO KEY
    UPDATE: a plain FOR UPDATE would wait on the key-share lock that inserting a detector of the area (or any
    row pointing at the user) takes, and two trainings started at once would deadlock on PostgreSQL.
    """
    if Job.Kind(kind) not in HEAVY_KINDS or user is None or not user.is_authenticated:
        return
    area = area_of(video=video, mission=mission, detector=detector)
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if area is not None:
        type(area).objects.select_for_update(no_key=True).filter(pk=area.pk).first()
    mine = heavy_jobs_under_way().filter(created_by=user).count()
    if mine >= settings.MAX_ACTIVE_JOBS_PER_USER:
        raise JobLimitReached(
            f"you already have {mine} {HEAVY_WORDS} queued or running, the most one person may have at once; "
            "wait for one to finish or cancel one under Jobs"
        )
    here = in_area(heavy_jobs_under_way(), area).count() if area is not None else 0
    if here >= settings.MAX_ACTIVE_JOBS_PER_AREA:
        raise JobLimitReached(
            f"{area.name} already has {here} {HEAVY_WORDS} queued or running, the most one area may have at once; "
            "wait for one to finish or cancel one under Jobs"
        )

