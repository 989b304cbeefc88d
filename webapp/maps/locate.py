"""Where an event happened on the ground: its heatmap peak seen from the drone's pose at the peak time.

`detection.mapping.camera.locate_peaks` does the geometry with the area's camera (`Area.camera_hfov_degrees`) and
the video's frame size; the pose is the video's stored telemetry (`poses.npz`) at `peak_time`. An event of a
detector that gives no heatmap peak (MIL) is placed at the centre of the view, within half a footprint of where
it is. Scoring locates a run's events when it writes them; the mosaic job locates its area's events that have
none yet (telemetry attached after scoring).
"""

from __future__ import annotations

import numpy as np

from webapp.catalog import telemetry
from webapp.detectors.models import Event


def locate_events(events) -> int:
    """Fill `latitude`/`longitude` of `events` (an iterable of Event rows) whose video has telemetry; returns
    how many were placed. Events of a video without telemetry keep null."""
    from detection.mapping.camera import CameraModel, locate_peaks

    by_video: dict[int, list[Event]] = {}
    videos = {}
    for event in events:
        video = event.score_run.video
        if video.has_telemetry and video.width and video.height:
            by_video.setdefault(video.pk, []).append(event)
            videos[video.pk] = video
    changed = []
    for pk, rows in by_video.items():
        video = videos[pk]
        poses = telemetry.load_poses(video)
        if poses is None or len(poses) == 0:
            continue
        camera = CameraModel.for_frame(video.width, video.height, video.mission.area.camera_hfov_degrees)
        latitude, longitude = locate_peaks(poses, [e.peak_time for e in rows], [e.peak_x for e in rows],
                                           [e.peak_y for e in rows], camera)
        for event, lat, lon in zip(rows, latitude, longitude):
            if np.isfinite(lat) and np.isfinite(lon):
                event.latitude, event.longitude = float(lat), float(lon)
                changed.append(event)
    Event.objects.bulk_update(changed, ["latitude", "longitude"])
    return len(changed)


def locate_unplaced(area) -> int:
    """Place the area's events that have no position yet and whose video has telemetry."""
    events = (Event.objects.filter(score_run__video__mission__area=area, score_run__video__has_telemetry=True,
                                   latitude__isnull=True)
              .select_related("score_run__video__mission__area"))
    return locate_events(events.iterator())
