"""`python manage.py worker_status`: the workers listening on each queue, what they run, and the job backlog."""

from django.core.management.base import BaseCommand
from django.db.models import Count, Min
from django.utils import timezone

from webapp.celery import app
from webapp.jobs.kinds import QUEUES
from webapp.jobs.models import Job


class Command(BaseCommand):
    help = "List the Celery workers per queue (cpu, gpu) with their active tasks, and queued/running job counts."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for worker replies")

    def handle(self, *args, timeout=2.0, **options):
        inspect = app.control.inspect(timeout=timeout)
        queues = inspect.active_queues() or {}
        active = inspect.active() or {}
        for queue in QUEUES:
            names = sorted(w for w, qs in queues.items() if any(q["name"] == queue for q in qs))
            self.stdout.write(f"queue {queue}: {len(names)} worker(s)")
            for name in names:
                self.stdout.write(f"  {name}  running {len(active.get(name, []))} task(s)")
        now = timezone.now()
        rows = Job.objects.filter(state__in=Job.ACTIVE_STATES).values("state").annotate(n=Count("id"), oldest=Min("created"))
        for row in rows:
            age = (now - row["oldest"]).total_seconds()
            self.stdout.write(f"jobs {row['state']}: {row['n']} (oldest created {age:.0f} s ago)")
        if not queues:
            self.stdout.write(self.style.WARNING("no worker answered: start one with "
                                                 "`celery -A workers.celery_app worker -Q cpu,gpu`"))
