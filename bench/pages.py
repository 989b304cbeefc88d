"""Pages benchmark: server time and bytes of the report pages against a seeded database.

Seeds one mission with a 2-hour patrol video sampled at 2 fps (14,400 frames, 124x124 by default) scored by a
CAE (per-frame scores and heatmaps) and a MIL detector (per-segment scores), 40 labelled anomalies, plus a
second 10-minute video; then times each page through Django's full request stack (middleware, sessions, ORM,
templates) in this process, as the web server would run it:
    .venv/bin/python bench/pages.py                                   # SQLite in a temp folder
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/skerry_bench_pages
Targets: the review page of the 2-hour video returns in < 300 ms (median) and sends < 2 MB of score data; the
mission map (the 2-hour flight's telemetry at 10 poses/s, its events located, an area mosaic of 4096x2048 px)
returns in < 1 s and sends < 3 MB with the mosaic tiles it loads: counted here as many as a map 2048 px wide
showing the whole mosaic loads (every tile of the 2048x1024 level, and the coarsest level's one tile); a view of
the flight's whole track loads the coarsest tile alone, a zoomed view only the tiles in view.
Prints a table and writes bench/out/pages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
# bench/queue.py would shadow the standard library's `queue` (asgiref imports it): drop this folder.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        return
    import psycopg

    name = parsed.path.lstrip("/")
    with psycopg.connect(url.replace(parsed.path, "/postgres", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def configure(args, workdir: Path) -> None:
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz0123")
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["DJANGO_SECURE_COOKIES"] = "0"
    os.environ["SKERRY_VAR_DIR"] = str(workdir)
    os.environ["SKERRY_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["SKERRY_LOG_LEVEL"] = "ERROR"
    if args.database_url:
        ensure_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "webapp.settings"
    import django

    django.setup()
    from django.conf import settings

    # The manifest storage needs collectstatic; page timing does not depend on how static URLs are spelt.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(args):
    from tests.support.seed import make_mission, make_user, seed_scored_video

    started = time.perf_counter()
    mission = make_mission("Bench reef", "Two-hour patrol")
    step = args.seconds / 41
    anomalies = tuple((step * (i + 1), step * (i + 1) + 6.0, ("boat", "person", "debris")[i % 3]) for i in range(40))
    long = seed_scored_video(mission, name="two-hours.mp4", seconds=args.seconds, frame_size=args.frame_size,
                             heatmap_size=args.heatmap_size, anomalies=anomalies, kinds=("cae", "mil"), seed=1)
    seed_scored_video(mission, name="ten-minutes.mp4", seconds=600, frame_size=args.frame_size,
                      heatmap_size=args.heatmap_size, anomalies=((100.0, 110.0, "boat"),), kinds=("cae", "mil"), seed=2)
    user = make_user("bench-analyst", "analyst")
    seed_map(long.video)
    print(f"seeded in {time.perf_counter() - started:.1f} s: {long.video.frame_count} frames in the long video")
    return mission, long, user


def seed_map(video) -> None:
    """The 2-hour flight's telemetry (10 poses a second), its events located, and a built area mosaic."""
    import cv2
    import numpy as np
    from django.conf import settings

    from detection.mapping.mosaic import Mosaic
    from detection.mapping.pyramid import save_pyramid
    from detection.telemetry import GeoOrigin
    from tests.support.maps import attach_poses, straight_flight
    from webapp.detectors.models import Event
    from webapp.jobs.models import Job
    from webapp.maps.locate import locate_events

    attach_poses(video, straight_flight(video.duration, rate=10.0), width=1280, height=720)
    locate_events(Event.objects.filter(score_run__video=video).select_related("score_run__video__mission__area"))
    job = Job.objects.create(kind=Job.Kind.MOSAIC, video=video, state=Job.State.SUCCEEDED)
    folder = f"areas/{video.mission.area_id}/mosaics/{job.pk}"
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 255, (64, 128, 3), dtype=np.uint8)  # smooth texture, about a real mosaic's JPEG size
    image = cv2.resize(coarse, (4096, 2048), interpolation=cv2.INTER_LINEAR)
    save_pyramid(Mosaic(image, np.ones(image.shape[:2], bool), GeoOrigin(59.42, 18.88), 0.3, (-100.0, -300.0),
                        np.zeros((2, 4)), {"resolution": 0.3, "drift_m": 2.0}), Path(settings.MEDIA_ROOT) / folder)
    Job.objects.filter(pk=job.pk).update(result={"folder": folder})


def map_tile_urls(html: str, width: int = 2048) -> list[str]:
    """The mosaic tiles a map `width` pixels wide showing the whole mosaic loads (static/maps/tiles.js): every
    tile of the largest level at most that wide, and the coarsest level's tiles under them."""
    data = re.search(r'id="map-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    tiles = json.loads(data)["mosaic"]["tiles"]
    levels, size = tiles["levels"], tiles["size"]
    level = next((i for i, (w, _) in enumerate(levels) if w <= width), len(levels) - 1)
    return [f"{tiles['url']}{lvl}/{x}/{y}.jpg" for lvl in sorted({level, len(levels) - 1})
            for y in range(-(-levels[lvl][1] // size)) for x in range(-(-levels[lvl][0] // size))]


def score_bytes(html: str) -> int:
    """Bytes of the score data the review page carries: its JSON elements (figure and full-resolution tracks)."""
    return sum(len(m.encode()) for m in re.findall(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>',
                                                   html, re.S))


def measure(client, url: str, repeat: int) -> dict:
    first = time.perf_counter()
    response = client.get(url)
    cold = time.perf_counter() - first
    assert response.status_code == 200, (url, response.status_code)
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    times.sort()
    return {"url": url, "cold_ms": cold * 1000, "median_ms": statistics.median(times) * 1000,
            "cpu_median_ms": statistics.median(cpu) * 1000,
            "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))] * 1000, "bytes": len(body), "body": body}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL of a database to (re)create; default SQLite")
    parser.add_argument("--seconds", type=float, default=7200.0)
    parser.add_argument("--frame-size", type=int, default=124)
    parser.add_argument("--heatmap-size", type=int, default=31)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the review page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="skerry-bench-pages-") as tmp:
        configure(args, Path(tmp))
        from django.test import Client
        from django.urls import reverse

        from webapp.detectors.models import Event

        mission, long, user = seed(args)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        event = Event.objects.filter(score_run__video=long.video).order_by("-peak_score").first()
        cae = long.runs["cae"]
        pages = {
            "review page, 2-hour video": reverse("video_review", args=[long.video.pk]),
            "mission report": reverse("mission_report", args=[mission.pk]),
            "detector page (CAE)": reverse("detector", args=[cae.detector_id]),
            "heatmap overlay PNG": reverse("heatmap_png", args=[cae.pk, 7000]),
            "event thumbnail PNG": reverse("event_thumbnail", args=[event.pk]),
            "heatmap view": reverse("heatmap_view", args=[cae.pk, 7000]),
            "events CSV": reverse("mission_events_csv", args=[mission.pk]),
            "events JSON": reverse("mission_events_json", args=[mission.pk]),
            "standalone HTML": reverse("mission_report_html", args=[mission.pk]),
            "mission map": reverse("mission_map", args=[mission.pk]),
        }
        results = {}
        for name, url in pages.items():
            repeat = 3 if name == "standalone HTML" else args.repeat
            results[name] = measure(client, url, repeat)
        review = results["review page, 2-hour video"]
        mission_map = results["mission map"]
        tiles = map_tile_urls(mission_map["body"].decode())
        results["mission map: one mosaic tile"] = measure(client, tiles[0], args.repeat)
        tile_bytes = sum(len(b"".join(client.get(url))) for url in tiles)
        map_bytes = mission_map["bytes"] + tile_bytes
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(client.get, pages["review page, 2-hour video"])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        review["score_bytes"] = score_bytes(review["body"].decode())
    print(f"\n{'page':32} {'median ms':>10} {'p95 ms':>8} {'cold ms':>8} {'CPU ms':>8} {'bytes':>10}")
    for name, r in results.items():
        print(f"{name:32} {r['median_ms']:10.1f} {r['p95_ms']:8.1f} {r['cold_ms']:8.1f} {r['cpu_median_ms']:8.1f}"
              f" {r['bytes']:10,d}")
    print(f"\nreview page score data: {review['score_bytes']:,d} bytes (target < 2,000,000); "
          f"median {review['median_ms']:.1f} ms wall, {review['cpu_median_ms']:.1f} ms CPU (target < 300)")
    print(f"mission map: {map_bytes:,d} bytes with {len(tiles)} mosaic tiles ({tile_bytes:,d} bytes; target < 3,000,000); "
          f"median {mission_map['median_ms']:.1f} ms wall (target < 1000)")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    report = {"database": "postgresql" if args.database_url else "sqlite", "args": vars(args),
              "load_average": os.getloadavg()[0], "cpu_count": os.cpu_count(),
              "pages": {k: {key: v for key, v in r.items() if key != "body"} for k, r in results.items()},
              "mission_map": {"tiles": len(tiles), "tile_bytes": tile_bytes, "bytes_with_tiles": map_bytes}}
    (out / "pages.json").write_text(json.dumps(report, indent=1))
    ok = (review["median_ms"] < 300 and review["score_bytes"] < 2_000_000 and mission_map["median_ms"] < 1000
          and map_bytes < 3_000_000)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
