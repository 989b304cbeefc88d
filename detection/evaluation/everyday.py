"""Everyday objects on the route: does a detector flag the things that are there on every flight?

A generated patrol area (`area.json` beside the manifest) lists its fixtures: boats moored at a jetty, cars
parked at a cottage, a buoy. They are in every reference flight, so they are normal; issue 21 asks that they are
never flagged. With a flight's telemetry, each fixture's ground position is projected into every test frame
(`detection.mapping.camera`), and each frame's flag is placed on the ground from its heatmap peak, as the web app
places an event's marker. Counted per detector over the test videos:

- sightings: frames with at least one fixture in view;
- flagged_frames: frames at or above the threshold whose heatmap peak lies within `NEAR_METRES` of a fixture,
  and not on a labelled object (the ground-truth mask at the peak, grown by one heatmap cell: a vanished moored
  boat's mask is where the boat should be, and a boat coming alongside the jetty is an anomaly there);
- false_events: events that overlap no labelled interval with their peak within `NEAR_METRES` of a fixture.

The target is zero in both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

NEAR_METRES = 8.0  # about a moored boat's length: a peak this close to a fixture's centre is on it


@dataclass(frozen=True)
class Fixture:
    kind: str
    latitude: float
    longitude: float


def read_fixtures(manifest: str | Path) -> tuple[tuple[Fixture, ...], float] | None:
    """(fixtures, the camera's horizontal field of view in degrees) from the `area.json` beside `manifest`, or
    None where there is none or it lists no fixture (not a generated patrol area)."""
    if not manifest:
        return None
    path = Path(manifest).parent / "area.json"
    if not path.is_file():
        return None
    try:
        area = json.loads(path.read_text(encoding="utf-8"))
        fixtures = tuple(Fixture(str(f["kind"]), float(f["latitude"]), float(f["longitude"]))
                         for f in area.get("fixtures", ()))
        hfov = float(area.get("hfov_degrees", 0.0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable area description ({exc})") from exc
    if not fixtures:
        return None
    return fixtures, hfov


def count_video(fixtures, hfov_degrees: float, frame_size: tuple[int, int], poses, times, scores, threshold: float,
                heatmaps, masks, events, intervals) -> dict:
    """One test video's {sightings, flagged_frames, false_events} (module docstring). `frame_size` is (w, h);
    heatmaps (N, h, w) or None (then no frame can be placed: flagged_frames counts nothing); masks (N, h, w)
    bool at the heatmaps' size or None."""
    from detection.evaluation.metrics import overlaps
    from detection.mapping.camera import DEFAULT_HFOV_DEGREES, CameraModel, frame_points, locate_peaks
    from detection.telemetry import GeoOrigin

    camera = CameraModel.for_frame(frame_size[0], frame_size[1], hfov_degrees or DEFAULT_HFOV_DEGREES)
    times = np.asarray(times, np.float64)
    latitudes = np.array([f.latitude for f in fixtures])
    longitudes = np.array([f.longitude for f in fixtures])
    origin = GeoOrigin(float(latitudes[0]), float(longitudes[0]))
    fixture_east, fixture_north = origin.to_metres(latitudes, longitudes)
    at = poses.at(times)
    seen = np.zeros(len(times), bool)
    for latitude, longitude in zip(latitudes, longitudes):
        x, y = frame_points(at, latitude, longitude, camera)
        seen |= (x >= 0) & (x <= 1) & (y >= 0) & (y <= 1)

    def near(peak_times, peak_x, peak_y) -> np.ndarray:
        east, north = origin.to_metres(*locate_peaks(poses, peak_times, peak_x, peak_y, camera))
        distances = np.hypot(east[:, None] - fixture_east[None], north[:, None] - fixture_north[None])
        return np.nan_to_num(distances, nan=np.inf).min(axis=1) <= NEAR_METRES

    flagged = 0
    if heatmaps is not None:
        over = np.flatnonzero(np.asarray(scores) >= threshold)
        if len(over):
            h, w = heatmaps.shape[1:]
            peaks = [np.unravel_index(int(np.argmax(heatmaps[i])), (h, w)) for i in over]
            xs = [(px + 0.5) / w for _, px in peaks]
            ys = [(py + 0.5) / h for py, _ in peaks]
            close = near(times[over], xs, ys)
            for k, i in enumerate(over):
                if not close[k]:
                    continue
                if masks is not None:
                    grown = cv2.dilate(masks[i].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
                    if grown[peaks[k]]:
                        continue
                flagged += 1
    false = [e for e in events if not any(overlaps(e, i) for i in intervals) and e.peak_x is not None]
    false_near = int(near(np.array([e.peak_time for e in false]), [e.peak_x for e in false],
                          [e.peak_y for e in false]).sum()) if false else 0
    return {"sightings": int(seen.sum()), "flagged_frames": flagged, "false_events": false_near}


def summarise(per_video: list[dict | None]) -> dict | None:
    """The detector's `everyday_objects` entry over its test videos, or None where no video could be counted."""
    counted = [v for v in per_video if v is not None]
    if not counted:
        return None
    total = {key: sum(v[key] for v in counted) for key in ("sightings", "flagged_frames", "false_events")}
    return {**total, "videos": len(counted), "near_metres": NEAR_METRES}
