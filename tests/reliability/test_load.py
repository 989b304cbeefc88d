"""Bounded load on loopback: concurrent resumable uploads with page traffic beside them, and a queue of jobs
drained by a real worker. Sizes scale with SKERRY_LOAD_UPLOADS / SKERRY_LOAD_UPLOAD_MB / SKERRY_LOAD_JOBS
(CI runs the reduced defaults; `SKERRY_LOAD_UPLOAD_MB=100` is the full form). Figures go to
test-artifacts/load.json for RELIABILITY.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import struct
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from rest_framework.authtoken.models import Token

from tests.support.seed import make_user
from tests.support.videos import make_video
from webapp.catalog.models import Area, Mission, Video
from webapp.jobs import services
from webapp.jobs.models import Job

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
UPLOADS = int(os.environ.get("SKERRY_LOAD_UPLOADS", "20"))
UPLOAD_MB = float(os.environ.get("SKERRY_LOAD_UPLOAD_MB", "2"))
JOBS = int(os.environ.get("SKERRY_LOAD_JOBS", "200"))
CHUNK = 512 * 1024


def record(name: str, figures: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "load.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=1))


def padded_video(base: bytes, size: int, seed: int) -> bytes:
    """A valid MP4 of `size` bytes: the base file plus a top-level `free` box of unique random bytes."""
    filler = max(0, size - len(base) - 8)
    payload = np.random.default_rng(seed).integers(0, 256, filler, dtype=np.uint8).tobytes()
    return base + struct.pack(">I", filler + 8) + b"free" + payload


class Loopback:
    def __init__(self, url: str, headers: dict):
        parsed = urlparse(url)
        self.host, self.port, self.headers = parsed.hostname, parsed.port, headers

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


def upload(api: Loopback, mission_pk: int, name: str, data: bytes) -> dict:
    """One tus upload; halfway it 'reconnects' and asks the server where to resume, as a client would."""
    tus = {"Tus-Resumable": "1.0.0"}
    meta = "filename " + base64.b64encode(name.encode()).decode()
    status, headers, body = api.request("POST", f"/api/missions/{mission_pk}/uploads/", b"",
                                        {**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    assert status == 201, body
    location = urlparse(headers["Location"]).path
    offset, resumed = 0, False
    while offset < len(data):
        if not resumed and offset >= len(data) // 2:
            status, headers, _ = api.request("HEAD", location, None, tus)
            assert status == 200
            offset, resumed = int(headers["Upload-Offset"]), True
        status, headers, body = api.request(
            "PATCH", location, data[offset:offset + CHUNK],
            {**tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        assert status == 204, body
        offset = int(headers["Upload-Offset"])
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest()}


def test_concurrent_resumable_uploads_with_page_traffic_arrive_intact(live_server, isolated_broker, tmp_path, settings):
    settings.MAX_ACTIVE_UPLOADS_PER_USER = UPLOADS  # one account sends them all at once, by design of this test
    analyst = make_user("lars", "analyst")
    token = Token.objects.create(user=analyst)
    area = Area.objects.create(name="Load area")
    mission = Mission.objects.create(area=area, name="Load patrol", date=dt.date(2026, 11, 28))
    base = make_video(tmp_path / "base.mp4", seconds=2, fps=10, faststart=True).read_bytes()
    api = Loopback(live_server.url, {"Authorization": f"Token {token.key}"})
    files = [(f"patrol-{i:02d}.mp4", padded_video(base, int(UPLOAD_MB * 1024**2), i)) for i in range(UPLOADS)]

    results, errors, latencies = [], [], []
    stop_pages = threading.Event()

    def run_upload(name, data):
        try:
            results.append(upload(api, mission.pk, name, data))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(f"{name}: {exc!r}")

    def page_traffic():
        paths = ["/healthz?workers=0", "/api/missions/", f"/api/missions/{mission.pk}/", "/api/videos/"]
        for i in range(400):
            if stop_pages.is_set():
                return
            started = time.perf_counter()
            status, _, _ = api.request("GET", paths[i % len(paths)])
            latencies.append(time.perf_counter() - started)
            if status not in (200, 503):
                errors.append(f"page {paths[i % len(paths)]}: {status}")

    started = time.perf_counter()
    uploaders = [threading.Thread(target=run_upload, args=item) for item in files]
    readers = [threading.Thread(target=page_traffic) for _ in range(2)]
    for thread in uploaders + readers:
        thread.start()
    for thread in uploaders:
        thread.join(600)
    stop_pages.set()
    for thread in readers:
        thread.join(60)
    elapsed = time.perf_counter() - started

    assert errors == []
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in files}
    stored = {v.original_name: v for v in Video.objects.filter(mission=mission)}
    assert set(stored) == set(expected), "every upload became exactly one video"
    from django.conf import settings

    for name, video in stored.items():
        assert video.sha256 == expected[name]
        on_disk = hashlib.sha256((Path(settings.MEDIA_ROOT) / video.file).read_bytes()).hexdigest()
        assert on_disk == expected[name], f"{name} differs on disk"
    p95 = float(np.percentile(latencies, 95)) if latencies else 0.0
    record("uploads", {"uploads": UPLOADS, "megabytes_each": UPLOAD_MB, "seconds": round(elapsed, 2),
                       "megabytes_per_second": round(UPLOADS * UPLOAD_MB / elapsed, 2),
                       "page_requests": len(latencies), "page_p50_ms": round(float(np.median(latencies)) * 1000, 1),
                       "page_p95_ms": round(p95 * 1000, 1), "intact": len(stored)})
    assert p95 < 5.0, f"p95 page latency {p95:.2f} s under upload load"


@pytest.mark.worker
def test_a_queue_of_jobs_drains_with_none_lost(celery_worker):
    started = time.perf_counter()
    jobs = services.start_jobs("noop", [{"steps": 1, "step_seconds": 0} for _ in range(JOBS)])
    ids = [job.pk for job in jobs]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if Job.objects.filter(pk__in=ids, state__in=Job.FINAL_STATES).count() == len(ids):
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    states = dict.fromkeys(Job.State.values, 0)
    for state in Job.objects.filter(pk__in=ids).values_list("state", flat=True):
        states[state] += 1
    record("queue", {"jobs": JOBS, "seconds": round(elapsed, 2), "jobs_per_second": round(JOBS / elapsed, 1),
                     "states": states})
    assert states[Job.State.SUCCEEDED] == JOBS, states
    assert Job.objects.filter(pk__in=ids).exclude(attempts=1).count() == 0, "each ran exactly once"
