"""The catalog's link to background work: the jobs app's service functions, imported only when called.

The web app never runs heavy work in a request; it asks `webapp.jobs.services` to create a Job row and
enqueue it after commit. If that module is missing, callers get JobsUnavailable and tell the user so.
"""

from __future__ import annotations

import importlib

NO_DETECTOR = "No ready, active detector in this area: train one on the area page first."


class JobsUnavailable(RuntimeError):
    """Background jobs cannot be started here (webapp.jobs.services is not installed)."""


def _services():
    try:
        return importlib.import_module("webapp.jobs.services")
    except ImportError as exc:
        raise JobsUnavailable("background jobs are not available on this server") from exc


def start_ingest(video, user=None):
    return _services().start_ingest(video, user=user)


def start_training(detector, user=None):
    return _services().start_training(detector, user=user)


def start_scoring(mission_or_video, user=None):
    """The scoring Job, or None when the area has no ready, active detector."""
    return _services().start_scoring(mission_or_video, user=user)
