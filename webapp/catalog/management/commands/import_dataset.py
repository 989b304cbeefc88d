"""`python manage.py import_dataset MANIFEST --area NAME`: load a manifest's labelled videos into the catalog.

Creates the area (in --team, else in the Default team; an existing area keeps its team), one mission per folder (day01/, ...), the videos with labels, splits and intervals, copies
(or links, with --link) each original under MEDIA_ROOT, and starts ingest (unless --no-ingest). Rows whose
checksum the area already holds are skipped, so a rerun creates nothing new.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detection.errors import ManifestError
from webapp.accounts.models import Team
from webapp.catalog.importing import LINK_MODES, import_manifest
from webapp.catalog.models import Area


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser) -> None:
        parser.add_argument("manifest", type=Path, help="manifest.csv (video,label,split,intervals,classes)")
        parser.add_argument("--area", required=True, help="area name (created if missing)")
        parser.add_argument("--team", help="name of an existing team a new area belongs to (default: Default team)")
        parser.add_argument("--mission-per-folder", action=argparse.BooleanOptionalAction, default=True,
                            help="one mission per folder of the manifest (default); --no-mission-per-folder "
                                 "puts every video in one mission")
        parser.add_argument("--mission", help="name of the single mission with --no-mission-per-folder")
        parser.add_argument("--link", nargs="?", const="hard", choices=LINK_MODES,
                            help="hard-link (default when given) or symlink the originals instead of copying")
        parser.add_argument("--no-ingest", action="store_true", help="do not start ingest jobs (for tests)")
        parser.add_argument("--date", type=date.fromisoformat, help="mission date (YYYY-MM-DD); default today")

    def handle(self, *args, **options) -> None:
        if not options["manifest"].is_file():
            raise CommandError(f"no manifest at {options['manifest']}")
        if options["team"]:
            team = Team.objects.filter(name=options["team"]).first()
            if team is None:
                raise CommandError(f"no team called {options['team']!r}; create it in the admin first")
            Area.objects.get_or_create(name=options["area"], defaults={"team": team})
        try:
            result = import_manifest(
                options["manifest"], area_name=options["area"], mission_per_folder=options["mission_per_folder"],
                mission_name=options["mission"], link=options["link"], start_ingest=not options["no_ingest"],
                default_date=options["date"],
                progress=lambda fraction, stage: self.stdout.write(f"  {stage}") if fraction < 1 else None,
            )
        except ManifestError as exc:
            raise CommandError("the manifest has problems:\n" + "\n".join(exc.problems)) from exc
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(self.style.SUCCESS(
            f"Area {result.area.name}: {len(result.created)} video(s) imported, {len(result.missions)} new "
            f"mission(s), {len(result.existing)} already imported (skipped)."
        ))
