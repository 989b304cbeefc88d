"""`python manage.py sweep_jobs`: re-queue or fail jobs of dead workers, re-send stranded queued jobs."""

from django.core.management.base import BaseCommand

from webapp.jobs.sweep import sweep_jobs


class Command(BaseCommand):
    help = "Re-queue (or fail, after JOB_MAX_ATTEMPTS) running jobs whose heartbeat stopped; re-send lost queued jobs."

    def add_arguments(self, parser):
        parser.add_argument("--stale-seconds", type=float, default=None,
                            help="heartbeat age that counts as a dead worker (default: JOB_STALE_SECONDS)")

    def handle(self, *args, stale_seconds=None, **options):
        report = sweep_jobs(stale_seconds=stale_seconds)
        self.stdout.write(f"job sweep: {report}")
