from pathlib import Path

import pytest

from tests.support.videos import make_video


@pytest.fixture
def tiny_video(tmp_path: Path) -> Path:
    """A 2-second 64x48 H.264 MP4 at 10 fps."""
    return make_video(tmp_path / "tiny.mp4")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")

# Shared fixtures, registered once for the whole run: a session-scoped fixture imported into several modules
# would be set up once per module (two Playwright loops, two broker namespaces) and they would collide.
from tests.support.browser import browser, page, playwright  # noqa: E402, F401
from tests.support.patrol import patrol_tiny_set  # noqa: E402, F401
from tests.support.worker import (  # noqa: E402, F401
    celery_worker,
    celery_worker_process,
    isolated_broker,
    worker_factory,
)


def pytest_report_header(config):
    """Say which database and broker this run uses, so that a CI log shows it ran on PostgreSQL and Redis."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    broker = "redis " + settings.REDIS_URL if settings.REDIS_URL else "kombu filesystem transport"
    return [f"skerry: database {database['ENGINE'].rsplit('.', 1)[-1]} ({database.get('HOST') or database['NAME']}), "
            f"broker {broker}"]
