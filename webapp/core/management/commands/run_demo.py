"""`make demo`: migrate, demo account, synthetic mission, web server + real worker, ingest, train (CAE, MIL and
CHANGE), score, then evaluate the CAE on the labelled patrols and export the mission with the most events as a zip;
last, review two events as an analyst would and retrain the CAE with the reviews (a new, inactive version).

With --no-serve it stops after checking the result (every job succeeded, the busiest mission's report page,
fetched from the running server, shows events, the compare view of the top CHANGE event shows today's frame
and the reference's, and the retrained CAE's page shows its parent, the reviews it read and its held-out
evaluation beside its parent's) and exits non-zero otherwise: CI runs it on a clean checkout.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command

from webapp.core import demo


class Command(BaseCommand):
    help = "Run Skerry's demo on this machine: SQLite, filesystem broker, a real Celery worker. Ctrl-C stops it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true",
                            help="run the pipeline, check the report, then exit (non-zero if anything failed)")
        parser.add_argument("--live", action="store_true",
                            help="then watch it live: FFmpeg replays the demo flight with the most events as a live "
                                 "stream of a new mission (looped until Ctrl-C), and its poses are posted to the "
                                 "live telemetry API as a ground station would")
        parser.add_argument("--live-port", type=int, default=9000, help="the TCP port of the live replay")

    def handle(self, *args, port: int, no_serve: bool, live: bool = False, live_port: int = 9000, **options):
        say = self.stdout.write
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        username, password = demo.ensure_demo_account()
        interrupted = demo.requeue_interrupted_jobs()
        if interrupted.requeued or interrupted.resent:
            say(f"Resuming jobs an earlier run left unfinished: {interrupted}")
        data_dir = settings.VAR_DIR / "demo" / "data"
        say(f"Generating the demo patrols in {data_dir} (once) ...")
        manifest = demo.ensure_demo_data(data_dir)
        processes = demo.start_processes(port, settings.VAR_DIR / "demo" / "logs")
        ground_station = None
        try:
            problems = self.run_pipeline(manifest, say)
            problems += self.check_report(port, username, password)
            if problems:
                say(self.style.ERROR("\nThe demo did not complete: " + "; ".join(problems)))
                say(f"Logs: {settings.VAR_DIR / 'demo' / 'logs'}")
                if no_serve:
                    raise CommandError(f"{len(problems)} demo step(s) failed")
            if live and not problems:
                publisher, ground_station = self.start_live(port, live_port, username, say)
                processes.append(publisher)
            minutes = (time.monotonic() - started) / 60
            say(self.style.SUCCESS(f"\nSkerry is up: http://127.0.0.1:{port}/  login: {username} / {password}"
                                   f"  ({minutes:.1f} min)"))
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
            if ground_station is not None:  # it ends with FFmpeg's progress; this only waits for that
                ground_station.stop()
            # The worker is gone: what it was running goes back to the queue, for the next run to resume.
            left = demo.requeue_interrupted_jobs()
            if left.requeued:
                say(f"Unfinished jobs {left.requeued} go back to the queue; the next `make demo` resumes them.")

    def start_live(self, port: int, live_port: int, username: str, say):
        """The live replay (demo.start_live_replay) and its ground station, which posts the flight's poses to the
        running server's telemetry API (demo_ground_station). Returns (FFmpeg's process, stopped with the others;
        the ground station, which stops with FFmpeg, or None when the flight has no telemetry)."""
        from django.contrib.auth import get_user_model

        from webapp.catalog.models import Area
        from webapp.core.demo_ground_station import start_ground_station

        area = Area.objects.get(name=demo.DEMO_AREA)
        source = demo.live_replay_source(area)
        user = get_user_model().objects.get(username=username)
        mission, publisher = demo.start_live_replay(area, source, port=live_port, user=user, progress=True)
        stream = mission.live_streams.get()
        ground_station = start_ground_station(stream, source, publisher, api_url=f"http://127.0.0.1:{port}",
                                              user=user)
        fed = (f"its telemetry fed too: poses posted each second to /api/live/{stream.pk}/telemetry/ as a ground "
               "station would" if ground_station else "it has no telemetry, so no poses are posted")
        say(self.style.SUCCESS(f"Watch it live: http://127.0.0.1:{port}/missions/{mission.pk}/live/ "
                               f"({source.original_name} replayed on tcp://127.0.0.1:{live_port}; {fed})"))
        return publisher, ground_station

    def run_pipeline(self, manifest, say) -> list[str]:
        """Every step of the demo through real jobs; returns what failed (empty when everything succeeded)."""
        from django.core.exceptions import ValidationError

        from webapp.detectors.models import Detector
        from webapp.jobs.services import start_evaluation, start_export, start_scoring, start_training
        from webapp.maps.mosaics import build_mosaic

        problems = []

        def wait(what, jobs, timeout):
            if not demo.wait_for_jobs(jobs, timeout=timeout, say=say):
                problems.append(what)

        area = demo.import_demo_data(manifest)
        say("Ingesting videos ...")
        wait("ingest", demo.ingest_jobs(area), 900)
        for kind, config in demo.demo_detectors().items():
            detector = demo.demo_detector(area, kind)
            if detector is None:
                detector = Detector.objects.create(area=area, kind=kind, name=f"Demo {kind.upper()}",
                                                   config=config, is_active=True)
            if detector.status != Detector.Status.READY:
                say(f"Training {detector} ...")
                wait(f"training {detector}", [start_training(detector)], 1800)
        say("Scoring the demo missions ...")
        jobs = [start_scoring(mission) for mission in area.missions.all()]
        wait("scoring", [j for j in jobs if j is not None], 1800)
        # Every labelled patrol is scored by now, so the evaluation only measures; both take seconds.
        say("Evaluating the CAE on the labelled patrols and exporting a mission ...")
        cae = demo.demo_detector(area, Detector.Kind.CAE)
        cae = cae if cae is not None and cae.status == Detector.Status.READY else None
        mission = demo.busiest_mission(area)
        if cae is None:
            problems.append("no ready CAE to evaluate")
        follow = ([start_evaluation(cae)] if cae else []) + ([start_export(mission)] if mission else [])
        wait("evaluation and export", follow, 900)
        say("Building the area's map (a mosaic of its reference flight, placed by its telemetry) ...")
        try:
            wait("mosaic", [build_mosaic(area)], 900)
        except ValidationError as exc:
            problems.append(f"mosaic: {' '.join(exc.messages)}")
        if cae is not None:
            self.retrain_with_reviews(cae, wait, say)
        return problems

    def retrain_with_reviews(self, cae, wait, say) -> None:
        """Review events as an analyst would (demo.review_as_analyst), then "retrain with reviews" the CAE as a
        real job, and wait for the new version's training and its held-out evaluation."""
        from django.contrib.auth import get_user_model

        from webapp.detectors.models import Detector

        say(f"Reviewing events as an analyst would, then retraining {cae} with the reviews ...")
        version, training, reviewed = demo.retraining(cae, get_user_model().objects.get(username=demo.DEMO_USER))
        for event in reviewed:
            say(f"  {event.get_review_display().lower()}: {event.score_run.detector.name}'s event at "
                f"{event.start:.1f}-{event.end:.1f} s of {event.score_run.video}"
                + (f" ({event.anomaly_class})" if event.anomaly_class else ""))
        if training is not None:
            wait(f"retraining {cae}", [training], 1200)
        version.refresh_from_db()
        if version.status == Detector.Status.READY:
            wait(f"the held-out evaluation of {version}", [demo.held_out_evaluation(version)], 900)

    def check_report(self, port: int, username: str, password: str) -> list[str]:
        """The busiest mission's report, fetched from the running web server, shows events."""
        from webapp.catalog.models import Area

        if not demo.wait_for_server(port):
            return [f"the web server did not answer on port {port}"]
        mission = demo.busiest_mission(Area.objects.get(name=demo.DEMO_AREA))
        if mission is None:
            return ["the demo area has no mission"]
        cards = demo.report_page_events(port, mission, username, password)
        self.stdout.write(f"The report of {mission} shows {cards} event(s).")
        problems = [] if cards else [f"the report of {mission} shows no event"]
        problems += self.check_inbox(port, username, password)
        problems += self.check_map(port, mission, username, password)
        problems += self.check_retrained(port, username, password)
        return problems + self.check_compare_view(port, username, password)

    def check_retrained(self, port: int, username: str, password: str) -> list[str]:
        """The retrained CAE's page, fetched from the running server, shows its lineage, the reviews it read and
        its held-out evaluation beside its parent's."""
        from webapp.catalog.models import Area
        from webapp.detectors.models import Detector

        cae = demo.demo_detector(Area.objects.get(name=demo.DEMO_AREA), Detector.Kind.CAE)
        version = demo.retrained_version(cae) if cae else None
        if version is None:
            return ["the CAE was not retrained with reviews"]
        path = version.get_absolute_url()
        used = version.reviews_used_counts
        self.stdout.write(f"{version.name}, retrained from {cae.name} with {used['confirmed']} confirmed and "
                          f"{used['dismissed']} dismissed event(s), not active: http://127.0.0.1:{port}{path}")
        return demo.retrained_page_problems(demo.fetch_page(port, path, username, password), version)

    def check_inbox(self, port: int, username: str, password: str) -> list[str]:
        """The triage inbox, fetched from the running server, lists the unreviewed events."""
        from django.urls import reverse

        rows = demo.inbox_rows(port, username, password)
        self.stdout.write(f"The triage inbox lists {rows} unreviewed event(s): http://127.0.0.1:{port}"
                          f"{reverse('inbox')}")
        return [] if rows else ["the triage inbox lists no event"]

    def check_map(self, port: int, mission, username: str, password: str) -> list[str]:
        """The mission's map, fetched from the running server, draws the mosaic, the tracks and placed events."""
        from django.urls import reverse

        path = reverse("mission_map", args=[mission.pk])
        payload = demo.map_payload(port, path, username, password)
        self.stdout.write(f"The map of {mission} places {len(payload.get('events') or [])} event(s) on "
                          f"{len(payload.get('tracks') or [])} track(s): http://127.0.0.1:{port}{path}")
        missing = [what for what in ("mosaic", "tracks", "events") if not payload.get(what)]
        return [f"the map of {mission} has no {', '.join(missing)}"] if missing else []

    def check_compare_view(self, port: int, username: str, password: str) -> list[str]:
        """The top CHANGE event's compare view, fetched from the running server, shows both frames."""
        from django.urls import reverse

        from webapp.catalog.models import Area

        event = demo.top_change_event(Area.objects.get(name=demo.DEMO_AREA))
        if event is None:
            return ["the CHANGE detector flagged no event"]
        path = reverse("event_compare", args=[event.pk])
        html = demo.fetch_page(port, path, username, password)
        self.stdout.write(f"The top CHANGE event ({event.score_run.video}, {event.peak_time:.1f} s): "
                          f"http://127.0.0.1:{port}{path}")
        shown = all(reverse("event_compare_image", args=[event.pk, panel]) in html for panel in ("today", "reference"))
        return [] if shown else [f"the compare view of event {event.pk} shows no comparison images"]
