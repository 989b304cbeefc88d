"""Pytest fixtures that start REAL Celery worker processes on the real broker and the test database.

The fixtures are registered once, in tests/conftest.py: never import them into a test module or another
conftest (a session-scoped fixture imported twice is set up twice, and the two broker namespaces collide).
In the test module:

    pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

    def test_it_ingests(celery_worker, tiny_video):
        job = start_ingest(video)                    # enqueued after commit, as in production
        job = celery_worker.wait_for(job)            # polls the row until it is final (default 60 s)
        assert job.state == "succeeded", job.error

- `celery_worker_process` (module scope) starts one worker on queues cpu,gpu (`-P solo`) and stops it after the
  module, so a module pays the start-up (a few seconds) once. It is a WorkerProcess: `.kill()` (SIGKILL),
  `.start()`, `.stop()`, `.log()`, `.media_root`, `.env`, `.wait_for(job)`.
- `worker_factory` (module scope) starts more: `worker_factory("rival", queues="cpu", pool="prefork",
  concurrency=2, SOME_ENV="x")`; all are stopped after the module.
- `celery_worker` (function scope) is the same worker with `settings.MEDIA_ROOT` pointed at the worker's media
  root, so the test and the worker read and write the same files.
- `isolated_broker` (session scope) gives this test run its own broker: a key prefix on Redis (REDIS_URL set,
  as in CI) or a temporary folder for the filesystem transport, so parallel runs never take each other's tasks.
The worker sees the test database: PostgreSQL's `test_<name>` through DATABASE_URL, or SQLite's test file
(settings give SQLite a file test database for this). Tests must use `django_db(transaction=True)`, so that
rows are committed where the worker can see them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to now (the test database during tests)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        name = str(settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("a worker process cannot share an in-memory SQLite database")
        return f"sqlite:///{Path(name).resolve()}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{settings_dict.get('HOST') or '127.0.0.1'}{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """One `celery worker` subprocess; its output goes to a log file that `.log()` reads."""

    def __init__(self, name: str, env: dict, log_dir: Path, *, queues: str = "cpu,gpu", pool: str = "solo",
                 concurrency: int = 1):
        self.name, self.env, self.queues, self.pool, self.concurrency = name, env, queues, pool, concurrency
        self.log_path = log_dir / f"{name}.log"
        self.media_root = Path(env["SKERRY_MEDIA_ROOT"])
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        command = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", self.queues,
                   "-P", self.pool, "-c", str(self.concurrency), "--without-heartbeat", "--without-gossip",
                   "--without-mingle", "-n", f"{self.name}@%h", "--loglevel", "INFO"]
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps writing to it
        log.write(f"\n=== starting {self.name} ===\n")
        log.flush()
        self.proc = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if f"{self.name}@" in self.log() and " ready." in self.log().rsplit("=== starting", 1)[-1]:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"worker {self.name} not ready after {READY_TIMEOUT} s:\n{self.log()[-4000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no chance to clean up, as in a crash."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, job, *, timeout: float = 60.0, until=None):
        """Poll the job row until `until(job)` (default: a final state); returns the fresh row."""
        from webapp.jobs.models import Job

        until = until or (lambda j: j.state in Job.FINAL_STATES)
        deadline = time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            if until(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"{job} not there after {timeout} s (stage {job.stage!r}); worker log:\n"
                                     f"{self.log()[-3000:]}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def isolated_broker(tmp_path_factory):
    """This session's own broker namespace, applied to the test process's Celery app; yields worker env."""
    from django.conf import settings
    from django.test import override_settings

    from workers.celery_app import app, configure

    if settings.REDIS_URL:
        env = {"SKERRY_CELERY_KEY_PREFIX": f"skerry-test-{uuid.uuid4().hex[:12]}:"}
        override = override_settings(CELERY_KEY_PREFIX=env["SKERRY_CELERY_KEY_PREFIX"])
    else:
        folder = tmp_path_factory.mktemp("broker")
        env = {"SKERRY_BROKER_DIR": str(folder)}
        override = override_settings(BROKER_DIR=folder)
    override.enable()
    configure(app)
    yield env
    override.disable()
    configure(app)
    if settings.REDIS_URL:
        _drop_redis_keys(settings.REDIS_URL, env["SKERRY_CELERY_KEY_PREFIX"])


def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def worker_env(base: dict, broker_env: dict, media_root: Path, **extra: str) -> dict:
    from django.db import connection

    env = {**os.environ, **base, **broker_env, "DATABASE_URL": database_url(connection.settings_dict),
           "SKERRY_MEDIA_ROOT": str(media_root), "DJANGO_SETTINGS_MODULE": "webapp.settings",
           "SKERRY_JOB_HEARTBEAT_SECONDS": "1", "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def worker_factory(isolated_broker, django_db_setup, django_db_blocker, tmp_path_factory):
    """spawn(name, queues=..., pool=..., concurrency=..., **env) -> started WorkerProcess; all stopped after."""
    started: list[WorkerProcess] = []
    log_dir = tmp_path_factory.mktemp("worker-logs")
    media_root = tmp_path_factory.mktemp("worker-media")

    def spawn(name: str | None = None, *, queues: str = "cpu,gpu", pool: str = "solo", concurrency: int = 1,
              **extra_env: str) -> WorkerProcess:
        with django_db_blocker.unblock():
            env = worker_env({}, isolated_broker, media_root, **extra_env)
        worker = WorkerProcess(name or f"w{len(started) + 1}-{uuid.uuid4().hex[:6]}", env, log_dir,
                               queues=queues, pool=pool, concurrency=concurrency)
        started.append(worker)
        return worker.start()

    spawn.media_root = media_root
    yield spawn
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def celery_worker_process(worker_factory) -> WorkerProcess:
    """One real worker on queues cpu,gpu for the whole module (restart it with .start() after .kill())."""
    return worker_factory("main")


@pytest.fixture
def celery_worker(celery_worker_process, settings) -> WorkerProcess:
    """The module's worker, running, with settings.MEDIA_ROOT shared with it."""
    if not celery_worker_process.alive():
        celery_worker_process.start()
    settings.MEDIA_ROOT = celery_worker_process.media_root
    return celery_worker_process
