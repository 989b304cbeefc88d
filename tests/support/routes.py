"""Every named URL of the site with the arguments to reach it, for the tests that walk them all (the role
matrix in tests/webapp/test_roles.py, the CSRF check in tests/security/test_csrf.py).

    from tests.support.routes import ROUTES, WRITE_METHODS, arguments, world  # noqa: F401 - `world` is a fixture

`world` seeds one of everything (with real files) and needs the `mission` and `analyst` fixtures of
tests.webapp.catalog_actors; `arguments(route, world)` gives a route's keyword arguments from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from detection.mapping.mosaic import Mosaic
from detection.mapping.pyramid import save_pyramid
from tests.support.maps import save_level_pyramid
from tests.support.seed import seed_scored_video
from tests.support.telemetry import write_flight_srt
from webapp.catalog import telemetry
from webapp.catalog.models import AreaMask, LabelInterval
from webapp.jobs.models import Job
from webapp.live.models import LiveStream
from webapp.reports.comparison import peak_index
from webapp.reports.plotlyjs import plotly_js_version
from webapp.uploads.models import UploadSession

# The write methods tried per URL (default POST).
WRITE_METHODS = {
    "upload": ("PATCH", "DELETE"),
    "api_upload": ("PATCH", "DELETE"),
    "api_mission": ("PATCH", "DELETE"),
    "api_video": ("PATCH", "DELETE"),
    "api_interval": ("PATCH", "DELETE"),
}

@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    params: tuple[str, ...]


def all_routes(patterns=None, prefix: str = "") -> list[Route]:
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's own admin checks is_staff itself
            routes += all_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            assert entry.name, f"URL {prefix}{entry.pattern} has no name; name it so the role matrix can list it"
            routes.append(Route(entry.name, prefix + str(entry.pattern), tuple(entry.pattern.converters)))
    return routes


ROUTES = all_routes()


@pytest.fixture
def world(mission, analyst):
    """One of everything, with real files, so that every URL has an object to show."""
    seeded = seed_scored_video(mission, proxy=True, seconds=4.0, anomalies=((1.0, 3.0, "boat"),))
    video, run = seeded.video, seeded.runs["cae"]
    poster = Path(settings.MEDIA_ROOT) / video.poster_path
    poster.write_bytes(b"\xff\xd8\xff\xd9")
    recon = Path(settings.MEDIA_ROOT) / run.detector.media_dir / "recon_0.png"
    recon.parent.mkdir(parents=True, exist_ok=True)
    recon.write_bytes(b"\x89PNG\r\n\x1a\n")
    job = Job.objects.create(kind=Job.Kind.INGEST, video=video)
    sidecar = write_flight_srt(Path(settings.MEDIA_ROOT) / "flight.SRT")
    telemetry.attach_sidecar(video, sidecar.name, [sidecar.read_bytes()], sidecar.stat().st_size)
    # A finished evaluation and export, with their files, for the URLs that serve them.
    detector = run.detector
    evaluation = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector, state=Job.State.SUCCEEDED)
    folder = f"{detector.media_dir}/evaluations/{evaluation.pk}"
    (Path(settings.MEDIA_ROOT) / folder).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / folder / "metrics.json").write_text("{}")
    evaluation.result = {"metrics": f"{folder}/metrics.json", "report": f"{folder}/report.md"}
    evaluation.save(update_fields=["result"])
    export = Job.objects.create(kind=Job.Kind.EXPORT, mission=mission, state=Job.State.SUCCEEDED)
    export.result = {"zip": f"exports/{export.pk}/mission.zip"}
    export.save(update_fields=["result"])
    (Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / export.result["zip"]).write_bytes(b"PK\x05\x06" + bytes(18))
    upload = UploadSession.objects.create(mission=mission, filename="a.mp4", length=10, created_by=analyst)
    mask = AreaMask.objects.create(area=mission.area, points=[[0, 0], [0.5, 0], [0, 0.5]])
    # A tiled mosaic, and one stored before tiles (whole levels), for the tile and level URLs.
    mosaics = {}
    for route, save in (("mosaic_tile", save_pyramid), ("mosaic_level", save_level_pyramid)):
        mosaic = mosaics[route] = Job.objects.create(kind=Job.Kind.MOSAIC, video=video, state=Job.State.SUCCEEDED)
        folder = f"areas/{mission.area_id}/mosaics/{mosaic.pk}"
        save(Mosaic(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), bool), None, 1.0, (0.0, 0.0), np.zeros((2, 4)), {}),
             Path(settings.MEDIA_ROOT) / folder)
        mosaic.result = {"folder": folder}
        mosaic.save(update_fields=["result"])
    # The event's peak pair of images, as a CHANGE run keeps them, for the compare view's image URLs.
    peak = peak_index(run.events.first())
    np.savez(Path(settings.MEDIA_ROOT) / run.media_dir / "comparisons.npz", indices=np.array([peak]),
             today=np.zeros((1, 8, 8, 3), np.uint8), reference=np.zeros((1, 8, 8, 3), np.uint8))
    live = LiveStream.objects.create(mission=mission, url="tcp://10.0.0.5:9000", video=video, detector=run.detector)
    (Path(settings.MEDIA_ROOT) / live.media_dir).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / live.media_dir / "latest.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    objects = {
        "areas": mission.area, "missions": mission, "videos": video, "intervals": LabelInterval.objects.first(),
        "detectors": run.detector, "events": run.events.first(), "runs": run, "jobs": job, "live": live,
    }
    return {"objects": objects, "video": video, "mission": mission, "upload": upload, "plotly": plotly_js_version(),
            "mask": mask,
            "jobs": {"detector_evaluation_file": evaluation, "mission_export_download": export, **mosaics}}


def arguments(route: Route, world) -> dict:
    """The URL's keyword arguments, chosen by parameter name and, for `pk`, by the path's first word."""
    words = [w for w in route.pattern.split("/") if w and w != "api"]
    values = {}
    for param in route.params:
        if param == "pk":
            kind = words[0]
            assert kind in world["objects"], f"tests/support/routes.py: teach `world` which object {route.pattern} shows"
            values[param] = world["objects"][kind].pk
        elif param in ("video_id",):
            values[param] = world["video"].pk
        elif param == "mission_pk":
            values[param] = world["mission"].pk
        elif param == "mask":
            values[param] = world["mask"].pk
        elif param == "upload_id":
            values[param] = world["upload"].pk
        elif param in ("index", "epoch", "level", "x", "y"):
            values[param] = 0
        elif param == "job":
            values[param] = world["jobs"][route.name].pk
        elif param == "name":
            values[param] = "metrics.json" if route.name == "detector_evaluation_file" else "poster.jpg"
        elif param == "panel":
            values[param] = "today" if route.name == "event_compare_image" else "input"
        elif param == "version":
            values[param] = world["plotly"]
        else:
            raise AssertionError(f"tests/support/routes.py: add a value for <{param}> of {route.name} ({route.pattern})")
    return values
