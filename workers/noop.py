"""The `noop` job: steps of sleep with progress, cancellable, optionally failing or writing a result file.

It exercises the whole job machinery (claim, progress, heartbeat, cancel, errors, sweep) without any ML, for
tests and bench/queue.py. Params: steps (int), step_seconds (float), fail (message to raise after the steps),
write_result (bool: write media/noop/<job id>.json through a temporary name).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings

from detection.atomic_files import temporaries_of, write_text
from webapp.jobs.models import Job
from workers.leftovers import remove_leftovers
from workers.progress import JobReporter


def run_noop(job: Job, reporter: JobReporter) -> dict:
    steps = int(job.params.get("steps", 0))
    step_seconds = float(job.params.get("step_seconds", 0.0))
    for step in range(steps):
        reporter.progress(step / steps, f"Step {step + 1} of {steps}", force=True)
        time.sleep(step_seconds)
    if job.params.get("fail"):
        raise RuntimeError(str(job.params["fail"]))
    result = {"steps": steps, "attempt": job.attempts}
    if job.params.get("write_result"):
        write_result_file(Path(settings.MEDIA_ROOT) / "noop" / f"{job.pk}.json", result)
    return result


def write_result_file(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path.parent, temporaries_of(path))
    write_text(path, json.dumps(result))
