"""The steps of `make demo`, as plain functions: account, data, processes, and the pipeline run through jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

DEMO_USER = "demo"
DEMO_AREA = "Demo archipelago"
DEMO_TEAM = "Demo team"
def demo_detectors() -> dict[str, dict]:
    """The detectors the demo trains, by kind, with their config: a short CAE training (SKERRY_DEMO_CAE_EPOCHS),
    so that the demo finishes in minutes on two CPU cores; the web form trains with the defaults. CHANGE
    compares each patrol with the area's normal ones (it trains no network: its cost is decoding them)."""
    return {"cae": {"epochs": settings.DEMO_CAE_EPOCHS}, "mil": {}, "change": {}}


def demo_retrain_config() -> dict:
    """The settings of the demo CAE's retraining with reviews that differ from its first training's: a sixth of
    the epochs (10 of 60), so that the step adds a minute or so. It shows the loop (reviews read as labels,
    lineage, the held-out evaluation beside the parent's), not a better model."""
    return {"epochs": max(1, settings.DEMO_CAE_EPOCHS // 6)}
DEMO_WORKER = "demo@"  # the demo worker's label starts with its node name


def demo_password() -> str:
    return os.environ.get("SKERRY_DEMO_PASSWORD", "skerry-demo-2026")


def demo_team():
    from webapp.accounts.models import Team

    return Team.objects.get_or_create(name=DEMO_TEAM)[0]


def ensure_demo_account() -> tuple[str, str]:
    """An account named demo, admin of the demo team; its password is reset to the demo password each run."""
    from webapp.accounts.models import Membership

    user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
    user.set_password(demo_password())
    user.save()
    Membership.objects.update_or_create(user=user, team=demo_team(), defaults={"role": Membership.Role.ADMIN})
    return DEMO_USER, demo_password()


def ensure_demo_data(data_dir: Path, *, seed: int = 3, **overrides) -> Path:
    """Generate the synthetic demo patrols once (each flight with its DJI .SRT sidecar, named in the manifest's
    telemetry column); later runs reuse them. `overrides` (generator settings such as seconds) are for tests.

    Data that an earlier demo generated without sidecars is generated again, so that its videos get poses."""
    manifest = data_dir / "manifest.csv"
    if manifest.exists() and _names_sidecars(manifest):
        return manifest
    from detection.synth import generate

    return generate(data_dir, preset="demo", seed=seed, **overrides)


def _names_sidecars(manifest: Path) -> bool:
    header = manifest.read_text().partition("\n")[0]
    return "telemetry" in header.split(",")


def import_demo_data(manifest: Path):
    """Load the manifest into the web app (idempotent by checksum) and return the area (the demo team's). The
    import attaches each video's sidecar from the manifest's telemetry column, as a user's manifest import does;
    ingest reads it into the video's pose table."""
    from webapp.catalog.importing import import_manifest
    from webapp.catalog.models import Area

    Area.objects.get_or_create(name=DEMO_AREA, defaults={"team": demo_team()})
    result = import_manifest(manifest, area_name=DEMO_AREA, start_ingest=True, default_date=date.today())
    if result.existing:
        attach_missing_sidecars(manifest, result.area)
    return Area.objects.get(name=DEMO_AREA)


def attach_missing_sidecars(manifest: Path, area) -> list:
    """Videos that an earlier demo imported without telemetry get their sidecar now, matched by file-name stem
    within their mission, as a user adds one to a video already uploaded. Returns the videos given one."""
    from detection.datasets.manifest import read_manifest
    from webapp.catalog.models import Mission
    from webapp.catalog.telemetry import SidecarRejected, attach_sidecar, video_for_sidecar

    attached = []
    for record in read_manifest(manifest):
        mission = Mission.objects.filter(area=area, name=str(Path(record.video_id).parent)).first()
        if record.telemetry is None or mission is None:
            continue
        sidecar = Path(record.telemetry)
        try:
            video = video_for_sidecar(mission, record.path.name)
        except SidecarRejected:
            continue
        if not video.telemetry_file:
            attached.append(attach_sidecar(video, sidecar.name, [sidecar.read_bytes()], sidecar.stat().st_size))
    return attached


def ingest_jobs(area) -> list:
    """One ingest job per video of the area that is not ready yet: the one under way, or a new one (a video
    whose earlier ingest failed or was interrupted is ingested again)."""
    from webapp.catalog.models import Video
    from webapp.jobs.services import start_ingest

    videos = Video.objects.filter(mission__area=area).exclude(status=Video.Status.READY)
    return [start_ingest(video) for video in videos]


def requeue_interrupted_jobs():
    """Jobs left running by an earlier demo's worker (Ctrl-C, a closed terminal) go back to the queue now,
    instead of waiting for their heartbeat to go stale: this demo's worker is the only one and it is not up."""
    from webapp.jobs.sweep import sweep_jobs

    # A stop the user asked for is no fault of the job: it never uses up the job's attempts (the beat's own
    # sweep still gives up on a job that keeps killing its worker).
    return sweep_jobs(stale_seconds=0, worker_prefix=DEMO_WORKER, max_attempts=sys.maxsize)


def demo_detector(area, kind: str):
    """The area's first detector of `kind` (the one the demo trains and evaluates, not a version retrained from
    it), or None."""
    from webapp.detectors.models import Detector

    return Detector.objects.filter(area=area, kind=kind, parent=None).order_by("pk").first()


def retrained_version(detector):
    """The newest version retrained from `detector`, or None."""
    return detector.versions.order_by("-pk").first()


def review_as_analyst(area, user) -> list:
    """Two verdicts an analyst would give, read from the ground truth (the labelled intervals the demo's manifest
    imported): the area's highest-level event that overlaps no anomalous interval is dismissed as a false alarm,
    the highest-level one inside an anomalous interval confirmed with that interval's class. Only unreviewed
    events of videos a retraining reads (not the test split, which measures it), the CAE's first. Returns the
    events reviewed (fewer than two when no event of a kind qualifies)."""
    from django.db.models import F

    from webapp.catalog.models import Video
    from webapp.detectors.models import Detector, Event
    from webapp.reports.reviews import review_event

    events = (Event.objects.filter(score_run__video__mission__area=area, review=Event.Review.UNREVIEWED)
              .exclude(score_run__video__split=Video.Split.TEST).select_related("score_run__detector")
              .prefetch_related("score_run__video__intervals").order_by(F("level").desc(nulls_last=True), "pk"))
    false_alarm = true_event = None
    for event in sorted(events, key=lambda e: e.score_run.detector.kind != Detector.Kind.CAE):  # stable sort
        hits = [i for i in event.score_run.video.intervals.all() if event.start <= i.end and event.end >= i.start]
        if hits and true_event is None:
            widest = max(hits, key=lambda i: min(event.end, i.end) - max(event.start, i.start))
            true_event = review_event(event, Event.Review.CONFIRMED, user, anomaly_class=widest.anomaly_class,
                                      note="In the ground truth (make demo).")
        elif not hits and false_alarm is None:
            false_alarm = review_event(event, Event.Review.DISMISSED, user,
                                       note="Nothing there in the ground truth (make demo).")
    return [event for event in (false_alarm, true_event) if event is not None]


def retraining(cae, user):
    """The demo CAE's retraining with reviews: (version, training job or None, events reviewed). The first run
    reviews events (`review_as_analyst`) and starts "retrain with reviews" (a real job: the worker trains the new
    version, not active, then evaluates it on held-out videos beside its parent). A later run reuses that version
    and trains it only if an earlier run left it untrained (the job under way, when there is one)."""
    from webapp.detectors.models import Detector
    from webapp.jobs.services import start_retraining, start_training

    version = retrained_version(cae)
    if version is None:
        reviewed = review_as_analyst(cae.area, user)
        version, job = start_retraining(cae, config=demo_retrain_config())
        return version, job, reviewed
    return version, None if version.status == Detector.Status.READY else start_training(version), []


def held_out_evaluation(version):
    """The retrained version's held-out evaluation: the one its training started (under way or done), or a new
    one when there is none that has not failed."""
    from webapp.jobs.models import Job
    from webapp.jobs.services import start_held_out_evaluation

    jobs = version.jobs.filter(kind=Job.Kind.EVALUATE).exclude(state__in=[Job.State.FAILED, Job.State.CANCELLED])
    return jobs.order_by("-pk").first() or start_held_out_evaluation(version)


def retrained_page_problems(html: str, version) -> list[str]:
    """What the retrained version's detector page fails to show: its parent, the reviews its training read, that
    it is not active, the videos it was held out from, and its evaluation beside its parent's."""
    import html as entities
    import re

    parent, used = version.parent, version.reviews_used_counts
    text = entities.unescape(html)
    expected = {
        "its parent": f'id="lineage-parent">{parent.name}</a>',
        "the reviews its training read": f'id="lineage-reviews">{used["confirmed"]} confirmed and {used["dismissed"]} '
                                         f'dismissed',
        "that it is not active": "Use for new videos</button>",
        f"its evaluation beside {parent.name}'s": f"Side by side with {parent.name} ({parent.kind})",
    }
    missing = [what for what, snippet in expected.items() if snippet not in text]
    if not re.search(r'id="eval-held-out">[^<]*\bpatrol\.mp4', text):
        missing.append("the held-out videos of its evaluation")
    if not sum(used.values()):
        missing.append("a review read by its training")
    return [f"the page of {version.name} does not show {what}" for what in missing]


def top_change_event(area):
    """The highest-scoring event of the area's CHANGE detectors (the one the demo opens the compare view of)."""
    from webapp.detectors.models import Detector, Event

    return (Event.objects.filter(score_run__detector__area=area, score_run__detector__kind=Detector.Kind.CHANGE)
            .order_by("-peak_score", "pk").first())


def report_page_events(port: int, mission, username: str, password: str) -> int:
    """Log in to the running web server as a browser would and count the event cards on the mission's report."""
    import re

    html = fetch_page(port, f"/missions/{mission.pk}/report/", username, password)
    return len(re.findall(r'class="[^"]*\bevent-card\b', html))


def inbox_rows(port: int, username: str, password: str) -> int:
    """Log in to the running web server and count the rows of the triage inbox's first page."""
    import re

    html = fetch_page(port, "/inbox/", username, password)
    return len(re.findall(r'<tr[^>]*\bdata-event=', html))


def map_payload(port: int, path: str, username: str, password: str) -> dict:
    """The data a map page draws (its `map-data` element), fetched from the running web server."""
    import json
    import re

    page = fetch_page(port, path, username, password)
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else {}


def fetch_page(port: int, path: str, username: str, password: str) -> str:
    """A page of the running web server, fetched after logging in as a browser would."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    base = f"http://127.0.0.1:{port}"
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    opener.open(f"{base}/accounts/login/", timeout=30).read()
    token = next(c.value for c in cookies if c.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(f"{base}/accounts/login/", data=form.encode(),
                                     headers={"Referer": f"{base}/accounts/login/"})
    opener.open(request, timeout=30).read()
    return opener.open(f"{base}{path}", timeout=60).read().decode()


def wait_for_server(port: int, *, timeout: float = 60.0) -> bool:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).read()
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    return False


def busiest_mission(area):
    """The area's mission with the most events (the one worth exporting), or None without missions."""
    from django.db.models import Count

    return area.missions.annotate(events=Count("videos__score_runs__events")).order_by("-events", "pk").first()


def start_processes(port: int, log_dir: Path) -> list[subprocess.Popen]:
    """The web server and one real Celery worker on both queues, logging under log_dir."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "cpu,gpu,live",
                   "-c", "2", "-n", f"{DEMO_WORKER}%h", "--loglevel", "INFO"],
        "beat": [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel", "INFO",
                 "-s", str(log_dir / "celerybeat-schedule")],
    }
    processes = []
    for name, command in commands.items():
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
        # Each in its own process group, so that stopping it also stops the worker's pool children.
        processes.append(subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log,
                                          start_new_session=True))
    return processes


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def stop_processes(processes: list[subprocess.Popen], *, grace: float = 10.0) -> None:
    """SIGTERM every process group, then SIGKILL what is left after `grace` seconds."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)
        process.wait()


def wait_for_jobs(jobs, *, timeout: float, say) -> bool:
    """Wait until every job is final; print progress; True when all succeeded."""
    from webapp.jobs.models import Job

    ids = [job.pk for job in jobs]
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        rows = list(Job.objects.filter(pk__in=ids))
        line = ", ".join(f"{j.kind}#{j.pk} {j.state} {j.progress:.0%}" for j in rows)
        if line != last:
            say(f"  {line}")
            last = line
        if all(j.state in Job.FINAL_STATES for j in rows):
            failed = [j for j in rows if j.state != Job.State.SUCCEEDED]
            for job in failed:
                say(f"  {job} failed: {job.error}")
            return not failed
        time.sleep(2)
    say("  timed out waiting for jobs; they go on in the background")
    return False


def live_replay_source(area):
    """The area's ready video with the most events: the flight worth watching live."""
    from django.db.models import Count

    from webapp.catalog.models import Video

    return (Video.objects.filter(mission__area=area, status=Video.Status.READY).exclude(file="")
            .annotate(events=Count("score_runs__events")).order_by("-events", "pk").first())


def start_live_replay(area, source, *, port: int, user=None, progress: bool = False):
    """"Watch it live": FFmpeg publishes `source` (a Video) in real time (`-re`, packets copied, looped) as
    MPEG-TS on a local TCP port, and a new mission of the area reads it as a live stream. Returns (mission,
    the FFmpeg process); stop the process to end the flight (the worker then ingests the recording).

    With `progress`, FFmpeg reports its progress on its stdout (a text pipe), which the demo's ground station
    reads to time the poses it sends (demo_ground_station.start_ground_station, which drains it)."""
    import datetime as dt

    from webapp.catalog.models import Mission
    from webapp.live.services import start_stream

    url = f"tcp://127.0.0.1:{port}"
    publisher = start_publisher(Path(settings.MEDIA_ROOT) / source.file, url, progress=progress)
    mission = Mission.objects.create(area=area, name=f"Live replay of {source.original_name}", date=dt.date.today(),
                                     notes=f"{source.original_name} published live by FFmpeg on {url} (make demo).",
                                     created_by=user)
    start_stream(mission, url, user=user)
    return mission, publisher


def start_publisher(path: Path, url: str, *, progress: bool = False) -> subprocess.Popen:
    """FFmpeg sending the video at `path` in real time, looped, as MPEG-TS to its reader on `url` (tcp://, FFmpeg
    listening); with `progress`, its progress reports on stdout as text."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(path),
         "-map", "0:v:0", "-c", "copy", "-f", "mpegts", *(["-progress", "pipe:1"] if progress else []),
         f"{url}?listen=1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if progress else None, text=progress,
        start_new_session=True)
