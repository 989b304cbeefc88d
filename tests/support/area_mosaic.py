"""An area with a flown, scored patrol and a built mosaic under it, for the tests that draw masks on the area map:
a scored 60 s video (anomalies at 10-14 s and 40-45 s) flown due east from 59.42 N 18.88 E, its events placed and
confirmed (the area map shows confirmed events), and a succeeded mosaic job whose textured mosaic covers the
flight: 700 x 400 m at 0.5 m a pixel, from 200 m west to 500 m east and 200 m south to 200 m north of the origin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings

from detection.telemetry import GeoOrigin
from tests.support.maps import attach_poses, straight_flight
from tests.support.seed import make_mission, seed_scored_video
from webapp.catalog.models import Video
from webapp.detectors.models import Event
from webapp.jobs.models import Job
from webapp.maps.locate import locate_events

ORIGIN = GeoOrigin(59.42, 18.88)
BOUNDS = (-200.0, 500.0, -200.0, 200.0)  # west, east, south, north map metres


def flown_patrol() -> Video:
    seeded = seed_scored_video(make_mission(), anomalies=((10.0, 14.0, "boat"), (40.0, 45.0, "person")), seed=3)
    video = attach_poses(seeded.video, straight_flight(60.0))
    events = Event.objects.filter(score_run__video=video)
    locate_events(events.select_related("score_run__video__mission__area"))
    events.update(review=Event.Review.CONFIRMED)
    return video


def save_area_mosaic(video: Video, origin: GeoOrigin | None = ORIGIN) -> Job:
    """A succeeded mosaic job of `video` with its tiled mosaic on disk (in route coordinates without `origin`)."""
    from detection.mapping.mosaic import Mosaic
    from detection.mapping.pyramid import save_pyramid
    from tests.detection.change_scenes import textured_world

    job = Job.objects.create(kind=Job.Kind.MOSAIC, video=video, state=Job.State.SUCCEEDED)
    folder = f"areas/{video.mission.area_id}/mosaics/{job.pk}"
    image = np.ascontiguousarray(textured_world(seed=5, size=1400)[:800])
    west, _, _, north = BOUNDS
    mosaic = Mosaic(image, np.ones(image.shape[:2], bool), origin, 0.5, (west, -north), np.zeros((2, 4)),
                    {"resolution": 0.5, "drift_m": 1.0})
    save_pyramid(mosaic, Path(settings.MEDIA_ROOT) / folder)
    Job.objects.filter(pk=job.pk).update(result={"folder": folder})
    job.refresh_from_db()
    return job


def write_poster(video: Video) -> None:
    """A poster frame, so that the area page offers its mask editor and says what share the masks cover."""
    from PIL import Image

    from tests.detection.change_scenes import textured_world

    poster = Path(settings.MEDIA_ROOT) / video.poster_path
    poster.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(textured_world(seed=4, size=320)[:180])).save(poster)
