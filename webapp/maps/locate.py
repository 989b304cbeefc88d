"""Where an event happened on the ground: its heatmap peak seen from the drone's pose at the peak time.

`detection.mapping.camera` does the geometry with the area's camera (`Area.camera_hfov_degrees`) and the video's
frame size; the pose is the video's stored telemetry (`poses.npz`) at `peak_time`. An event of a detector that
gives no heatmap peak (MIL) is placed at the centre of the view, within half a footprint of where it is.
Scoring locates a run's events when it writes them; the mosaic job locates its area's events that have none yet
(telemetry attached after scoring).
"""

from __future__ import annotations

import numpy as np

from webapp.catalog import telemetry
from webapp.detectors.models import Event

MAX_POSE_GAP = 2.0  # seconds: a peak this far outside the telemetry's time span has no pose to be seen from


def locate_events(events) -> int:
    """Fill `latitude`/`longitude` of `events` (an iterable of Event rows) whose video has telemetry; returns
    how many were placed. Events of a video without telemetry keep null."""
    from detection.mapping.camera import CameraModel, locate

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
        times = np.array([e.peak_time for e in rows])
        x = np.array([0.5 if e.peak_x is None else e.peak_x for e in rows])
        y = np.array([0.5 if e.peak_y is None else e.peak_y for e in rows])
        latitude, longitude = locate(poses, times, x, y, camera)
        covered = (times >= poses.time[0] - MAX_POSE_GAP) & (times <= poses.time[-1] + MAX_POSE_GAP)
        for event, lat, lon, ok in zip(rows, latitude, longitude, covered):
            if ok and np.isfinite(lat) and np.isfinite(lon):
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
