"""Queue benchmark: enqueue-to-start latency with idle workers, and throughput of trivial jobs through the whole
job-row machinery (Job row, commit, message by id, claim by conditional update, progress, finish).

Runs against the real Redis and PostgreSQL (defaults below; override with --redis-url / --database-url):
    .venv/bin/python bench/queue.py                       # 2 worker processes, 30 latency samples, 1,000 jobs
    .venv/bin/python bench/queue.py --jobs 200 --workers 1
It creates the database if missing and migrates it, isolates its broker keys with a unique prefix, starts its own
`celery worker -P solo` processes, prints a table and writes bench/out/queue.json. Targets: median latency < 1 s,
throughput >= 50 jobs/s with 2 worker processes.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name shadows the standard library's `queue` (which psycopg and kombu import): drop its folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import urlparse  # noqa: E402


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        return
    import psycopg

    name = parsed.path.lstrip("/")
    admin = url.replace(parsed.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def start_workers(count: int, log_dir: Path) -> list[subprocess.Popen]:
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for index in range(count):
        log = open(log_dir / f"queue-worker{index}.log", "w")  # noqa: SIM115 - the child writes to it
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "cpu", "-P", "solo",
             "-c", "1", "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"bench{index}@%h",
             "--loglevel", "WARNING"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    return procs


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (Linux /proc), to price a job independently of machine load."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wait_for_workers(count: int, timeout: float = 60.0) -> None:
    from workers.celery_app import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if len(replies) >= count:
            return
    raise RuntimeError(f"{count} workers did not answer within {timeout} s")


def wait_final(ids: list[int], timeout: float) -> None:
    from webapp.jobs.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk__in=ids).exclude(state__in=Job.FINAL_STATES).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("jobs did not finish in time")
        time.sleep(0.02)


def measure_latency(samples: int) -> list[float]:
    from webapp.jobs.models import Job
    from webapp.jobs.services import start_job

    latencies = []
    for _ in range(samples):
        job = start_job("noop")
        wait_final([job.pk], 30)
        job.refresh_from_db()
        latencies.append((job.started - job.created).total_seconds())
        time.sleep(0.2)  # the workers are idle again when the next job comes
    assert Job.objects.filter(state=Job.State.SUCCEEDED).count() >= samples
    return latencies


def measure_throughput(count: int, *, bulk: bool, worker_pids: list[int]) -> dict:
    """1,000 noop jobs: one start_job (row, commit, message) each, or start_jobs (one INSERT, one connection)."""
    from django.db.models import Max, Min

    from webapp.jobs.models import Job
    from webapp.jobs.services import start_job, start_jobs

    cpu_before = cpu_seconds(worker_pids)
    began = time.perf_counter()
    ids = [job.pk for job in start_jobs("noop", [{}] * count)] if bulk else [start_job("noop").pk for _ in range(count)]
    enqueued = time.perf_counter() - began
    wait_final(ids, 600)
    worker_cpu = cpu_seconds(worker_pids) - cpu_before
    rows = Job.objects.filter(pk__in=ids)
    span = rows.aggregate(first=Min("created"), last=Max("finished"))
    seconds = (span["last"] - span["first"]).total_seconds()
    succeeded = rows.filter(state=Job.State.SUCCEEDED, attempts=1).count()
    per_worker = {w: rows.filter(worker=w).count() for w in rows.values_list("worker", flat=True).distinct()}
    span = rows.aggregate(first=Min("started"), last=Max("finished"))
    worker_seconds = (span["last"] - span["first"]).total_seconds()
    return {"mode": "start_jobs (bulk)" if bulk else "start_job each", "jobs": count,
            "succeeded_first_attempt": succeeded, "seconds": round(seconds, 3),
            "worker_jobs_per_second": round(count / worker_seconds, 1),
            "worker_cpu_ms_per_job": round(1000 * worker_cpu / count, 2),
            "jobs_per_second": round(count / seconds, 1), "enqueue_seconds": round(enqueued, 3),
            "per_worker": per_worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or "postgres://postgres@127.0.0.1:5432/skerry_bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-samples", type=int, default=30)
    args = parser.parse_args()

    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    os.environ.update({"REDIS_URL": args.redis_url, "DATABASE_URL": args.database_url,
                       "SKERRY_CELERY_KEY_PREFIX": prefix, "DJANGO_SETTINGS_MODULE": "webapp.settings",
                       "SKERRY_LOG_LEVEL": "WARNING"})
    os.environ.setdefault("DJANGO_DEBUG", "1")
    ensure_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from webapp.jobs.models import Job

    call_command("migrate", verbosity=0)
    Job.objects.filter(kind=Job.Kind.NOOP).delete()
    procs = start_workers(args.workers, ROOT / "bench" / "out")
    try:
        wait_for_workers(args.workers)
        latencies = measure_latency(args.latency_samples)
        pids = [proc.pid for proc in procs]
        throughput = [measure_throughput(args.jobs, bulk=False, worker_pids=pids),
                      measure_throughput(args.jobs, bulk=True, worker_pids=pids)]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)
        Job.objects.filter(kind=Job.Kind.NOOP).delete()
        import redis

        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    result = {
        "workers": args.workers, "database": django.db.connection.vendor, "load_average": os.getloadavg(),
        "latency": {"samples": len(latencies), "median_s": round(statistics.median(latencies), 4),
                    "p90_s": round(sorted(latencies)[int(0.9 * (len(latencies) - 1))], 4),
                    "max_s": round(max(latencies), 4)},
        "throughput": throughput,
    }
    out = ROOT / "bench" / "out" / "queue.json"
    out.write_text(json.dumps(result, indent=1))
    lat = result["latency"]
    print(f"enqueue-to-start latency, idle workers: median {lat['median_s'] * 1000:.1f} ms, "
          f"p90 {lat['p90_s'] * 1000:.1f} ms, max {lat['max_s'] * 1000:.1f} ms ({lat['samples']} jobs)")
    for thr in result["throughput"]:
        print(f"throughput, {thr['mode']}: {thr['jobs']} noop jobs from first created to last finished in "
              f"{thr['seconds']} s = {thr['jobs_per_second']} jobs/s with {args.workers} worker processes "
              f"(workers alone, first started to last finished: {thr['worker_jobs_per_second']} jobs/s, "
              f"{thr['worker_cpu_ms_per_job']} ms of worker CPU per job; "
              f"{thr['succeeded_first_attempt']} succeeded at the first attempt; enqueueing took "
              f"{thr['enqueue_seconds']} s; per worker {thr['per_worker']})")
    print(f"load average during the run: {result['load_average']}")


if __name__ == "__main__":
    main()
