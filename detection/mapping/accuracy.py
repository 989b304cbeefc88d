"""How well the mapping places things, measured on a generated patrol (`detection.synth`), where the truth is
known: every object's latitude and longitude (its ground truth) and the area's fixtures (`area.json`).

- `marker_errors`: an object's marker is its mask's centre (where a detector's heatmap would peak on it)
  seen through the camera model from the flight's telemetry at that frame; the error is the ground distance
  to the object's true position. Objects cut by the frame edge are left out (their box centre is not theirs).
- `landmark_errors`: for every frame that shows a fixture, where the mosaic put that frame's pixel of the
  fixture (the pixel the generator's own camera projects it to) against the fixture's true position.
- `event_marker_errors`: a detector's events, each placed from its heatmap peak as the web app places it
  (`detection.mapping.camera.locate_peaks`), against the position of the object the peak is on.

All in metres. The generator's camera (`detection.synth.camera`) is independent code from
`detection.mapping.camera`, so agreement checks the conventions (yaw, axes, field of view) too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from detection.mapping.camera import CameraModel, locate
from detection.mapping.mosaic import Mosaic
from detection.telemetry import GeoOrigin, PoseTable


def _distance(origin: GeoOrigin, lat_a, lon_a, lat_b, lon_b) -> np.ndarray:
    east_a, north_a = origin.to_metres(lat_a, lon_a)
    east_b, north_b = origin.to_metres(lat_b, lon_b)
    return np.hypot(east_a - east_b, north_a - north_b)


def marker_errors(groundtruth, poses: PoseTable, camera: CameraModel, *, margin: int = 1) -> np.ndarray:
    """(n,) metres between each in-view object's projected mask centre and its true position."""
    if groundtruth.object_latlon is None:
        raise ValueError("this ground truth has no object positions (not a patrol preset's video)")
    height, width = groundtruth.size
    box = groundtruth.object_box.astype(np.float64)
    inside = ((box[:, 0] >= margin) & (box[:, 1] >= margin) & (box[:, 2] <= width - margin)
              & (box[:, 3] <= height - margin) & np.isfinite(groundtruth.object_latlon).all(axis=1))
    frames = groundtruth.object_frame[inside]
    times = (frames + 0.0) / groundtruth.fps
    x = (box[inside, 0] + box[inside, 2]) / 2 / width
    y = (box[inside, 1] + box[inside, 3]) / 2 / height
    latitude, longitude = locate(poses, times, x, y, camera)
    truth = groundtruth.object_latlon[inside]
    origin = GeoOrigin(float(truth[0, 0]), float(truth[0, 1])) if len(truth) else GeoOrigin(0.0, 0.0)
    return _distance(origin, latitude, longitude, truth[:, 0], truth[:, 1])


def event_marker_errors(groundtruth, events, latitude, longitude, *, margin: float = 0.05) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """(errors, in_view), both (n,) for n detected `events` (DetectedEvent rows with peaks) placed at
    (`latitude[i]`, `longitude[i]`): `in_view[i]` says the event's peak frame shows an object with a known
    position; `errors[i]` is the ground distance in metres from the marker to the object the peak is on, NaN
    where it is on none (a false event, or a peak beside the object it found). The peak is on an object when it
    lies in the object's box grown by `margin` of the frame's width and height each way (a heatmap cell is a
    few percent of the frame); of several, the one whose box centre is nearest the peak."""
    if groundtruth.object_latlon is None:
        raise ValueError("this ground truth has no object positions (not a patrol preset's video)")
    height, width = groundtruth.size
    known = np.isfinite(groundtruth.object_latlon).all(axis=1)
    frames = groundtruth.frame_index([e.peak_time for e in events])
    errors, in_view = np.full(len(events), np.nan), np.zeros(len(events), bool)
    for i, (event, frame) in enumerate(zip(events, frames)):
        rows = np.nonzero((groundtruth.object_frame == frame) & known)[0] if frame >= 0 else np.zeros(0, int)
        in_view[i] = len(rows) > 0
        if not len(rows) or event.peak_x is None or not np.isfinite(latitude[i]):
            continue
        box = groundtruth.object_box[rows].astype(np.float64)
        x, y = event.peak_x * width, event.peak_y * height
        on = ((box[:, 0] - margin * width <= x) & (x <= box[:, 2] + margin * width)
              & (box[:, 1] - margin * height <= y) & (y <= box[:, 3] + margin * height))
        if on.any():
            centres = np.stack([box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]], axis=1) / 2
            distance = np.where(on, np.hypot(centres[:, 0] - x, centres[:, 1] - y), np.inf)
            truth = groundtruth.object_latlon[rows[int(np.argmin(distance))]]
            errors[i] = _distance(GeoOrigin(*truth), latitude[i], longitude[i], truth[0], truth[1])
    return errors, in_view


def landmark_errors(mosaic: Mosaic, area_json: Path | str, poses: PoseTable, times: np.ndarray,
                    frame_size: tuple[int, int]) -> np.ndarray:
    """(n,) metres between where `mosaic` put each fixture, frame by frame, and the fixture's true position.

    `times` are the mosaic's frames' times, `frame_size` their (width, height), `poses` the flight's telemetry
    (the generator wrote it from the camera path that rendered the frames)."""
    from detection.synth import camera as synth_camera
    from detection.synth.presets import AreaSettings
    from detection.synth.sidecar import AreaMap

    area = json.loads(Path(area_json).read_text(encoding="utf-8"))
    settings = AreaSettings(origin=tuple(area["origin"]), metres_per_px=area["metres_per_px"],
                            hfov_degrees=area["hfov_degrees"], takeoff_abs_alt=area["takeoff_abs_alt"])
    area_map = AreaMap(settings, int(area["world_size"]))
    width, height = frame_size
    cameras = area_map.camera(poses.at(times), width)
    errors = []
    for fixture in area["fixtures"]:
        for frame, pose in enumerate(cameras):
            if not np.isfinite(mosaic.placements[frame]).all():
                continue
            u, v = synth_camera.world_to_frame(tuple(pose), fixture["world_x"], fixture["world_y"], (height, width))
            if 0 <= u < width and 0 <= v < height:
                latitude, longitude = mosaic.map_latlon(mosaic.frame_point_map(frame, u, v))
                errors.append(float(_distance(area_map.origin, latitude, longitude, fixture["latitude"],
                                              fixture["longitude"])[0]))
    return np.array(errors)
