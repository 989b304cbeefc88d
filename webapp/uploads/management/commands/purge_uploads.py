"""Delete upload sessions nobody has touched for a while, with their partial files (run it daily)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from webapp.uploads.models import UploadSession
from webapp.uploads.protocol import part_file


class Command(BaseCommand):
    help = "Delete unfinished or rejected uploads idle for more than --hours (default 72) and their .part files."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=72.0, help="idle time before an upload is purged")

    def handle(self, *args, hours: float, **options):
        cutoff = timezone.now() - timedelta(hours=hours)
        stale = UploadSession.objects.filter(updated__lt=cutoff).exclude(state=UploadSession.State.COMPLETE)
        freed = 0
        for session in stale:
            path = part_file(session)
            if path.exists():
                freed += path.stat().st_size
                path.unlink()
        count, _ = stale.delete()
        self.stdout.write(f"purged {count} upload(s) idle since {cutoff:%Y-%m-%d %H:%M}, freeing {freed} bytes")
