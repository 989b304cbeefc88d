"""What the map pages draw, as one JSON-ready dict: the mosaic layer, the flight tracks, the event markers.

Map coordinates are metres east and north of one origin: the area mosaic's (the first pose of its reference
flight) when it is georeferenced, else the first pose of the mission's first flight with telemetry. A page
draws them with plotly on equal axes, the mosaic's tiles in view as layout images underneath, the area's masks
fixed to the ground as outlined shapes; nothing is fetched from outside the app. Tracks are thinned to at most
MAX_TRACK_POINTS per flight, so a 2-hour flight's map stays
small; events carry their review-page link (at their peak time), level colour and review state.
"""

from __future__ import annotations

import numpy as np
from django.urls import reverse

from webapp.catalog import telemetry
from webapp.catalog.models import AreaMask, Video
from webapp.detectors.levels import level_colour, level_text, scale_for_pages
from webapp.detectors.models import Event
from webapp.maps.mosaics import current_mosaic
from webapp.reports.strip import review_url

MAX_TRACK_POINTS = 1500
MOSAIC_MAX_SIDE = 2048  # pixels of the whole level a page loads of a mosaic stored before tiles


def map_origin(mosaic, videos):
    """The GeoOrigin of the map's metres: the georeferenced mosaic's, else the first flight pose; or None."""
    from detection.telemetry import GeoOrigin

    if mosaic is not None and mosaic.info.georeferenced:
        return mosaic.info.origin
    for video in videos:
        if video.has_telemetry and video.start_latitude is not None:
            return GeoOrigin(video.start_latitude, video.start_longitude)
    return None


def mosaic_layer(area, mosaic) -> dict | None:
    """Where the area's georeferenced mosaic lies and how to fetch it: its tiles (`tiles.url` + "level/x/y.jpg",
    the size of each level: the page picks the level that fits its view), or for a mosaic stored before tiles
    the URL of the one level that fits MOSAIC_MAX_SIDE."""
    if mosaic is None or not mosaic.info.georeferenced:
        return None
    info = mosaic.info
    width, height = info.size
    stats = info.stats
    layer = {"x": round(info.top_left[0], 2), "y": round(info.top_left[1], 2), "width": round(width, 2),
             "height": round(height, 2), "resolution": stats.get("resolution"), "drift": stats.get("drift_m"),
             "video": mosaic.video.original_name, "mission": mosaic.video.mission.name,
             "date": mosaic.video.mission.date.isoformat(), "job": mosaic.job.pk}
    if info.tiled:
        first = reverse("mosaic_tile", args=[area.pk, mosaic.job.pk, 0, 0, 0])
        layer["tiles"] = {"url": first.removesuffix("0/0/0.jpg"), "size": info.tile_size,
                          "levels": [[lvl.width, lvl.height] for lvl in info.levels]}
    else:
        level = info.level_for(MOSAIC_MAX_SIDE)
        layer["url"] = reverse("mosaic_level", args=[area.pk, mosaic.job.pk, info.levels.index(level)])
    return layer


def flight_track(video: Video, origin) -> dict | None:
    """The flight's positions (thinned) in map metres, with their times, for drawing and for the player."""
    poses = telemetry.load_poses(video)
    if poses is None or len(poses) == 0:
        return None
    keep = np.unique(np.linspace(0, len(poses) - 1, min(len(poses), MAX_TRACK_POINTS)).round().astype(int))
    usable = keep[np.isfinite(poses.latitude[keep]) & np.isfinite(poses.longitude[keep])]
    east, north = origin.to_metres(poses.latitude[usable], poses.longitude[usable])
    proxy = reverse("video_media", args=[video.pk, "proxy.mp4"]) if video.has_proxy else ""
    return {"video": video.pk, "name": video.original_name, "proxy": proxy,
            "review": reverse("video_review", args=[video.pk]),
            "t": np.round(poses.time[usable], 2).tolist(), "x": np.round(east, 1).tolist(),
            "y": np.round(north, 1).tolist()}


def ground_mask_shapes(area, origin) -> list[dict]:
    """The area's ground masks as closed outlines in map metres (frame masks have no place on the ground)."""
    if origin is None:
        return []
    shapes = []
    for mask in AreaMask.objects.filter(area=area, space=AreaMask.Space.GROUND):
        latitude, longitude = np.asarray(mask.points, dtype=np.float64).T
        east, north = origin.to_metres(latitude, longitude)
        shapes.append({"id": mask.pk, "name": mask.name or f"mask {mask.pk}",
                       "x": np.round(np.append(east, east[0]), 1).tolist(),
                       "y": np.round(np.append(north, north[0]), 1).tolist()})
    return shapes


def event_markers(events, origin) -> list[dict]:
    """One marker per placed event: map metres, level colour, review state, and the review link."""
    placed = [e for e in events if e.latitude is not None and e.longitude is not None]
    if not placed or origin is None:
        return []
    east, north = origin.to_metres([e.latitude for e in placed], [e.longitude for e in placed])
    return [{"id": e.pk, "x": round(float(x), 1), "y": round(float(y), 1), "lat": round(e.latitude, 7),
             "lon": round(e.longitude, 7), "level": e.level, "level_text": level_text(e.level),
             "colour": level_colour(e.level), "review": e.review, "time": round(e.peak_time, 2),
             "video": e.score_run.video.original_name, "detector": e.score_run.detector.name,
             "mission": e.score_run.video.mission.name, "date": e.score_run.video.mission.date.isoformat(),
             "class": e.anomaly_class,
             "url": review_url(e.score_run.video_id, e)} for e, x, y in zip(placed, east, north)]


def mission_map_payload(mission, events) -> dict:
    """The mission map: the area mosaic, each of the mission's flights with telemetry, `events` as markers."""
    videos = list(mission.videos.filter(status=Video.Status.READY).order_by("original_name", "pk"))
    mosaic = current_mosaic(mission.area)
    origin = map_origin(mosaic, videos)
    tracks = [] if origin is None else [t for v in videos if v.has_telemetry
                                        for t in [flight_track(v, origin)] if t is not None]
    placed = event_markers(events, origin)
    return {"origin": None if origin is None else [origin.latitude, origin.longitude],
            "mosaic": mosaic_layer(mission.area, mosaic), "route_mosaic": _in_route_coordinates(mosaic),
            "tracks": tracks, "events": placed, "unplaced": sum(1 for e in events) - len(placed),
            "masks": ground_mask_shapes(mission.area, origin), "levels": scale_for_pages()}


def _in_route_coordinates(mosaic) -> bool:
    """The area's mosaic exists but cannot be drawn under tracks: its flight had no telemetry."""
    return mosaic is not None and not mosaic.info.georeferenced


def area_events(area):
    """Every confirmed, placed event of every mission of the area."""
    return (Event.objects.filter(score_run__video__mission__area=area, review=Event.Review.CONFIRMED,
                                 latitude__isnull=False, longitude__isnull=False)
            .select_related("score_run__video__mission", "score_run__detector")
            .order_by("score_run__video__mission__date", "peak_time", "pk"))


def area_map_payload(area, events) -> dict:
    """The area map: the mosaic, the mosaic's own flight as the only track, `events` as markers."""
    mosaic = current_mosaic(area)
    origin = map_origin(mosaic, [mosaic.video] if mosaic else [])
    if origin is None:
        from detection.telemetry import GeoOrigin

        first = events.first()
        mask = AreaMask.objects.filter(area=area, space=AreaMask.Space.GROUND).first()
        if first is not None:
            origin = GeoOrigin(first.latitude, first.longitude)
        elif mask is not None:
            origin = GeoOrigin(*mask.points[0])
    return {"origin": None if origin is None else [origin.latitude, origin.longitude],
            "mosaic": mosaic_layer(area, mosaic), "route_mosaic": _in_route_coordinates(mosaic), "tracks": [],
            "events": event_markers(events, origin), "unplaced": 0, "masks": ground_mask_shapes(area, origin),
            "levels": scale_for_pages()}
