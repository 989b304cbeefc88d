"""`make demo`: migrate, demo account, synthetic mission, web server + real worker, ingest, train, score,
then evaluate the CAE on the labelled patrols and export the mission with the most events as a zip."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import BaseCommand, call_command

from webapp.core import demo


class Command(BaseCommand):
    help = "Run Skerry's demo on this machine: SQLite, filesystem broker, a real Celery worker. Ctrl-C stops it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="run the pipeline, then exit")

    def handle(self, *args, port: int, no_serve: bool, **options):
        say = self.stdout.write
        call_command("migrate", interactive=False, verbosity=0)
        username, password = demo.ensure_demo_account()
        data_dir = settings.VAR_DIR / "demo" / "data"
        say(f"Generating the demo patrols in {data_dir} (once) ...")
        manifest = demo.ensure_demo_data(data_dir)
        processes = demo.start_processes(port, settings.VAR_DIR / "demo" / "logs")
        try:
            self.run_pipeline(manifest, say)
            say(self.style.SUCCESS(f"\nSkerry is up: http://127.0.0.1:{port}/  login: {username} / {password}"))
            say(f"Logs: {settings.VAR_DIR / 'demo' / 'logs'}. Ctrl-C stops everything.")
            while not no_serve:
                if any(p.poll() is not None for p in processes):
                    say(self.style.ERROR("a demo process stopped; see the logs"))
                    return
                time.sleep(1)
        except KeyboardInterrupt:
            say("\nStopping ...")
        finally:
            demo.stop_processes(processes)

    def run_pipeline(self, manifest, say) -> None:
        from webapp.detectors.models import Detector
        from webapp.jobs.models import Job
        from webapp.jobs.services import start_evaluation, start_export, start_scoring, start_training

        area = demo.import_demo_data(manifest)
        say("Ingesting videos ...")
        ingest = Job.objects.filter(kind=Job.Kind.INGEST, video__mission__area=area)
        demo.wait_for_jobs(list(ingest), timeout=900, say=say)
        for kind, config in demo.DEMO_DETECTORS.items():
            detector = Detector.objects.filter(area=area, kind=kind).first()
            if detector is None:
                detector = Detector.objects.create(area=area, kind=kind, name=f"Demo {kind.upper()}",
                                                   config=config, is_active=True)
            if detector.status != Detector.Status.READY:
                say(f"Training {detector} ...")
                demo.wait_for_jobs([start_training(detector)], timeout=1800, say=say)
        say("Scoring the demo missions ...")
        jobs = [start_scoring(mission) for mission in area.missions.all()]
        demo.wait_for_jobs([j for j in jobs if j is not None], timeout=1800, say=say)
        # Every labelled patrol is scored by now, so the evaluation only measures; both take seconds.
        say("Evaluating the CAE on the labelled patrols and exporting a mission ...")
        cae = Detector.objects.filter(area=area, kind="cae", status=Detector.Status.READY).first()
        mission = demo.busiest_mission(area)
        follow = ([start_evaluation(cae)] if cae else []) + ([start_export(mission)] if mission else [])
        demo.wait_for_jobs(follow, timeout=900, say=say)
