"""An area's masks (`AreaMask`): drawn on the area page, read by scoring (workers.scoring) through
`video_masks`. The geometry and its checks are `detection.masks`, shared with the scoring side.

A mask drawn on the drawing frame is a frame mask, or, when the analyst fixes it to the ground and the drawing
flight has telemetry, a ground mask: its corners go to the ground through the pose of the poster frame (taken
`default_poster_time` into the flight). A ground mask can also be given as latitudes and longitudes directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError

from detection.masks import (
    GroundMasks,
    MaskError,
    check_ground_polygon,
    check_polygon,
    frame_shares,
    masked_share,
)
from webapp.catalog import telemetry
from webapp.catalog.models import Area, AreaMask, Video

NAME_MAX = 120
MASKS_PER_AREA = 50
SHARE_FRAMES = 120  # frames of the drawing flight a ground mask's share is measured on


def add_mask(area: Area, points, user, name: str = "", *, on_ground: bool = False,
             drawn_on: Video | None = None) -> AreaMask:
    """A new mask of the area from frame points; with `on_ground`, fixed to the ground through the pose of
    `drawn_on`'s poster frame. ValidationError saying what is wrong with the points or name."""
    try:
        polygon = check_polygon(points)
    except MaskError as exc:
        raise ValidationError(str(exc)) from None
    if not on_ground:
        return _create(area, AreaMask.Space.FRAME, polygon, user, name)
    return _create(area, AreaMask.Space.GROUND, poster_to_ground(drawn_on, polygon), user, name)


def add_ground_mask(area: Area, points, user, name: str = "") -> AreaMask:
    """A new ground mask of the area from [latitude, longitude] points; ValidationError naming the problem."""
    try:
        polygon = check_ground_polygon(points)
    except MaskError as exc:
        raise ValidationError(str(exc)) from None
    return _create(area, AreaMask.Space.GROUND, polygon, user, name)


def _create(area: Area, space: str, polygon, user, name: str) -> AreaMask:
    name = str(name or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError(f"the mask's name has {len(name)} characters; at most {NAME_MAX}")
    if area.masks.count() >= MASKS_PER_AREA:
        raise ValidationError(f"area “{area.name}” already has {MASKS_PER_AREA} masks: delete some first")
    return AreaMask.objects.create(area=area, name=name, space=space, points=[list(p) for p in polygon],
                                   created_by=user if user is not None and user.is_authenticated else None)


def flight_camera(video: Video):
    """The video's telemetry (PoseTable) and camera model, or None without telemetry or a known frame size."""
    from detection.mapping.camera import CameraModel

    poses = telemetry.load_poses(video) if video.width and video.height else None
    if poses is None or len(poses) == 0:
        return None
    return poses, CameraModel.for_frame(video.width, video.height, video.mission.area.camera_hfov_degrees)


def poster_time(video: Video) -> float:
    from detection.video.thumbnails import default_poster_time

    return default_poster_time(video.duration or 0.0)


def poster_to_ground(video: Video | None, polygon) -> list[tuple[float, float]]:
    """The frame polygon drawn on `video`'s poster as [(latitude, longitude)], through the poster frame's pose."""
    from detection.mapping.camera import ground_latlon

    flight = None if video is None else flight_camera(video)
    if flight is None:
        raise ValidationError("the drawing frame's flight has no telemetry: a mask drawn on it can only stay in "
                              "frame coordinates")
    poses, camera = flight
    xs, ys = np.asarray(polygon, dtype=np.float64).T
    latitude, longitude = ground_latlon(poses.at([poster_time(video)]), xs, ys, camera)
    missing = [str(n) for n, ok in enumerate(np.isfinite(latitude) & np.isfinite(longitude), start=1) if not ok]
    if missing:
        raise ValidationError(f"corner {', '.join(missing)} of the mask does not meet the ground in this frame "
                              "(above the horizon, or the pose has no height or heading)")
    try:
        return check_ground_polygon(list(zip(latitude.tolist(), longitude.tolist())))
    except MaskError as exc:
        raise ValidationError(str(exc)) from None


def area_polygons(area_id: int) -> list[list[tuple[float, float]]]:
    """The area's frame masks as detection polygons."""
    return [[(float(x), float(y)) for x, y in mask.points]
            for mask in AreaMask.objects.filter(area=area_id, space=AreaMask.Space.FRAME)]


def ground_masks(video: Video) -> GroundMasks | None:
    """The area's ground masks with `video`'s telemetry and camera (what projects them into its frames), or None
    when the area has none or the video has no telemetry."""
    polygons = tuple([(float(a), float(b)) for a, b in mask.points]
                     for mask in AreaMask.objects.filter(area=video.mission.area_id, space=AreaMask.Space.GROUND))
    flight = flight_camera(video) if polygons else None
    if flight is None:
        return None
    return GroundMasks(polygons, *flight)


def video_masks(video: Video) -> tuple[list, GroundMasks | None]:
    """(frame polygons, ground masks or None): every mask of the video's area that applies to it."""
    return area_polygons(video.mission.area_id), ground_masks(video)


def mask_as_dict(mask: AreaMask, drawn_on: Video | None = None) -> dict:
    """The mask for the editor: its points, and where it lies in the drawing frame (`frame_points`: the frame
    mask's own points, a ground mask's corners projected through the poster frame's pose; None when it
    cannot be drawn there)."""
    shown = mask.points
    if mask.space == AreaMask.Space.GROUND:
        shown = None if drawn_on is None else _in_poster(drawn_on, mask.points)
    return {"id": mask.pk, "name": mask.name, "space": mask.space, "points": mask.points, "frame_points": shown}


def _in_poster(video: Video, points) -> list[list[float]] | None:
    from detection.mapping.camera import frame_points

    flight = flight_camera(video)
    if flight is None:
        return None
    poses, camera = flight
    latitude, longitude = np.asarray(points, dtype=np.float64).T
    xs, ys = frame_points(poses.at([poster_time(video)]), latitude, longitude, camera)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return None
    return [[round(float(x), 5), round(float(y), 5)] for x, y in zip(xs, ys)]


def masks_state(area: Area, drawn_on: Video | None = None) -> dict:
    """What the editor shows: every mask, the share of each frame the frame masks cover together, and, for
    ground masks, the share of each frame of the drawing flight they cover (with the frame masks): its mean
    and its largest over SHARE_FRAMES frames spread over the flight."""
    masks = list(area.masks.all())
    frame = [[tuple(p) for p in m.points] for m in masks if m.space == AreaMask.Space.FRAME]
    state = {"masks": [mask_as_dict(m, drawn_on) for m in masks], "masked_share": round(masked_share(frame), 4),
             "ground_share": None}
    ground = ground_masks(drawn_on) if drawn_on is not None else None
    if ground is not None and drawn_on.duration:
        shares = frame_shares(np.linspace(0.0, drawn_on.duration, SHARE_FRAMES), frame, ground)
        state["ground_share"] = {"video": drawn_on.original_name, "mean": round(float(shares.mean()), 4),
                                 "max": round(float(shares.max()), 4)}
    return state


def drawing_frame(area: Area, references: list[Video]) -> Video | None:
    """The video whose poster the masks are drawn on: the first reference flight with a poster, else the
    area's newest ready video with one."""
    ready = Video.objects.filter(mission__area=area, status=Video.Status.READY).order_by("-mission__date", "-pk")
    return next((v for v in [*references, *ready[:50]] if (Path(settings.MEDIA_ROOT) / v.poster_path).is_file()),
                None)
