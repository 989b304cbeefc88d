"""Telemetry for seeded videos, as ingest stores it (poses.npz and the Video row's summary), for the map tests
and `bench/pages.py`; and a mosaic stored as before tiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings

from detection.telemetry import PoseTable
from webapp.catalog.models import Video


def attach_poses(video: Video, poses: PoseTable, *, width: int | None = None, height: int | None = None) -> Video:
    """Store `poses` as the video's flight (what ingest writes from its sidecar), with its frame size."""
    poses.save(Path(settings.MEDIA_ROOT) / video.poses_path)
    fields = {"has_telemetry": True, "pose_count": len(poses), "telemetry_name": "flight.SRT",
              "start_latitude": float(poses.latitude[0]), "start_longitude": float(poses.longitude[0]),
              "end_latitude": float(poses.latitude[-1]), "end_longitude": float(poses.longitude[-1])}
    if width and height:
        fields.update(width=width, height=height)
    Video.objects.filter(pk=video.pk).update(**fields)
    video.refresh_from_db()
    return video


def straight_flight(seconds: float, *, rate: float = 2.0, start=(59.42, 18.88), speed: float = 8.0,
                    rel_alt: float = 60.0) -> PoseTable:
    """A nadir flight due east at `speed` m/s, heading east (yaw 90), `rate` poses a second."""
    times = np.arange(0.0, seconds + 1e-9, 1.0 / rate)
    east = speed * times
    longitude = start[1] + np.degrees(east / (6_371_008.8 * np.cos(np.radians(start[0]))))
    count = len(times)
    return PoseTable.from_columns(times, np.full(count, start[0]), longitude, rel_alt=np.full(count, rel_alt),
                                  abs_alt=np.full(count, rel_alt + 4), yaw=np.full(count, 90.0),
                                  pitch=np.full(count, -90.0))


def save_level_pyramid(mosaic, folder: Path) -> None:
    """`mosaic` stored as mosaics were before tiles (mosaic.json version 1: one JPEG per level), to check
    that the app still reads them."""
    import json

    import cv2

    from detection.mapping.pyramid import pyramid_levels

    folder.mkdir(parents=True, exist_ok=True)
    levels = []
    for index, (image, resolution) in enumerate(pyramid_levels(mosaic.image, mosaic.resolution, smallest=512)):
        cv2.imwrite(str(folder / f"level-{index}.jpg"), image[..., ::-1])
        levels.append({"file": f"level-{index}.jpg", "width": image.shape[1], "height": image.shape[0],
                       "resolution": resolution})
    origin = None if mosaic.origin is None else [mosaic.origin.latitude, mosaic.origin.longitude]
    (folder / "mosaic.json").write_text(json.dumps({
        "format": "skerry-mosaic", "version": 1, "origin": origin, "levels": levels, "stats": mosaic.stats,
        "top_left": [mosaic.top_left[0], -mosaic.top_left[1]]}))
