"""Parallel ingest of a long video: units of work (time ranges, plus one proxy/thumbnail unit) shared by workers.

The ingest job's own run sends a Celery group of `skerry.ingest_piece` helper tasks and then works through the
units itself; helpers take units too. A unit is taken by creating `<unit>.claim` with O_EXCL on the shared media
storage and finished by writing `<unit>.done`; a taker touches its claim as it works, and a claim that stopped
being touched for JOB_STALE_SECONDS (its worker died) is taken over by the job's run. So the job finishes with
no helper at all (a single worker cannot deadlock waiting for itself), goes faster with more workers, and the
job row keeps one owner and one heartbeat. Helpers stop as soon as the row says the run is over or replaced.
Results are not passed through Celery (task results are ignored), which is why this is not a chord.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from detection.atomic_files import write_text
from workers.progress import JobReporter

MEDIA_UNIT = "media"
TOUCH_SECONDS = 2.0


@dataclass(frozen=True)
class PiecePlan:
    """Everything a taker needs, recomputed from the job row in every process (messages stay ids)."""

    source: Path
    staging: Path
    ranges: tuple[tuple[float, float | None], ...]
    fps: float
    size: tuple[int, int]

    @property
    def units(self) -> list[str]:
        return [MEDIA_UNIT] + [f"piece{index:03d}" for index in range(len(self.ranges))]

    def piece_dir(self, unit: str) -> Path:
        return self.staging / "pieces" / unit


def _claim_path(plan: PiecePlan, unit: str) -> Path:
    return plan.staging / "pieces" / f"{unit}.claim"


def _done_path(plan: PiecePlan, unit: str) -> Path:
    return plan.staging / "pieces" / f"{unit}.done"


def try_take(plan: PiecePlan, unit: str, *, stale_seconds: float | None = None) -> bool:
    """Take a unit if nobody has it (or, with stale_seconds, if its taker stopped touching it)."""
    claim = _claim_path(plan, unit)
    if _done_path(plan, unit).exists():
        return False
    if stale_seconds is not None:
        try:
            if time.time() - claim.stat().st_mtime > stale_seconds:
                claim.unlink()
        except FileNotFoundError:
            pass
    try:
        fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except (FileExistsError, FileNotFoundError):  # taken, or the run is over and its folder gone
        return False
    os.write(fd, f"{os.getpid()}\n".encode())
    os.close(fd)
    return True


def run_unit(plan: PiecePlan, unit: str, should_stop) -> None:
    """Do one unit, touching its claim as it goes; `should_stop()` raises to abandon it."""
    from detection.video.ingest import sha256_file
    from detection.video.proxy import make_browser_proxy
    from detection.video.sampling import sample_frames
    from detection.video.thumbnails import make_thumbnails

    claim = _claim_path(plan, unit)
    last_touch = [time.monotonic()]

    def progress(fraction: float, stage: str) -> None:
        if time.monotonic() - last_touch[0] > TOUCH_SECONDS:
            last_touch[0] = time.monotonic()
            os.utime(claim)
            should_stop()

    if unit == MEDIA_UNIT:
        media = plan.staging / "pieces" / MEDIA_UNIT
        shutil.rmtree(media, ignore_errors=True)
        media.mkdir(parents=True)
        _, method = make_browser_proxy(plan.source, media / "proxy.mp4", progress=progress)
        make_thumbnails(plan.source, media, progress=progress)
        facts = {"sha256": sha256_file(plan.source), "warning": "", "proxy_method": method}
    else:
        start, end = plan.ranges[int(unit.removeprefix("piece"))]
        out = plan.piece_dir(unit)
        shutil.rmtree(out, ignore_errors=True)
        sampled = sample_frames(plan.source, fps=plan.fps, size=plan.size, out_dir=out, start=start, end=end,
                                progress=progress)
        facts = {"frames": len(sampled.times), "warning": sampled.warning}
    done = _done_path(plan, unit)
    write_text(done, json.dumps(facts))


def prepare(plan: PiecePlan) -> None:
    """The job's run makes the units' folder; helpers never create it, so one arriving late does nothing."""
    (plan.staging / "pieces").mkdir(parents=True, exist_ok=True)


def work_through(plan: PiecePlan, should_stop, *, stale_seconds: float | None = None) -> int:
    """Take and do units until none is free; returns how many this process did."""
    did = 0
    for unit in plan.units:
        should_stop()
        if try_take(plan, unit, stale_seconds=stale_seconds):
            run_unit(plan, unit, should_stop)
            did += 1
    return did


def done_facts(plan: PiecePlan) -> dict[str, dict]:
    found = {}
    for unit in plan.units:
        try:
            found[unit] = json.loads(_done_path(plan, unit).read_text())
        except FileNotFoundError:
            continue
    return found


def finish_all(plan: PiecePlan, reporter: JobReporter, low: float, high: float) -> dict[str, dict]:
    """The job run's part: do free units, then wait for helpers, taking over units whose taker went quiet."""
    stale = float(settings.JOB_STALE_SECONDS)
    total = len(plan.units)
    while True:
        work_through(plan, reporter.check_cancelled, stale_seconds=stale)
        facts = done_facts(plan)
        reporter(low + (high - low) * len(facts) / total, f"Ingesting in {total} pieces: {len(facts)} done")
        if len(facts) == total:
            return facts
        time.sleep(0.5)
