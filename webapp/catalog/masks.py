"""An area's masks (`AreaMask`): drawn on the area page, read by scoring (workers.scoring) through
`area_polygons`. The geometry and its checks are `detection.masks`, shared with the scoring side."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from detection.masks import MaskError, check_polygon, masked_share
from webapp.catalog.models import Area, AreaMask, Video

NAME_MAX = 120
MASKS_PER_AREA = 50


def add_mask(area: Area, points, user, name: str = "") -> AreaMask:
    """A new mask of the area; ValidationError saying what is wrong with the points or name."""
    try:
        polygon = check_polygon(points)
    except MaskError as exc:
        raise ValidationError(str(exc)) from None
    name = str(name or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError(f"the mask's name has {len(name)} characters; at most {NAME_MAX}")
    if area.masks.count() >= MASKS_PER_AREA:
        raise ValidationError(f"area “{area.name}” already has {MASKS_PER_AREA} masks: delete some first")
    return AreaMask.objects.create(area=area, name=name, points=[list(p) for p in polygon],
                                   created_by=user if user is not None and user.is_authenticated else None)


def area_polygons(area_id: int) -> list[list[tuple[float, float]]]:
    """The area's masks as detection polygons."""
    return [[(float(x), float(y)) for x, y in mask.points] for mask in AreaMask.objects.filter(area=area_id)]


def mask_as_dict(mask: AreaMask) -> dict:
    return {"id": mask.pk, "name": mask.name, "points": mask.points}


def masks_state(area: Area) -> dict:
    """What the editor shows: every mask, and the share of each frame they cover together."""
    masks = list(area.masks.all())
    share = masked_share([[tuple(p) for p in m.points] for m in masks])
    return {"masks": [mask_as_dict(m) for m in masks], "masked_share": round(share, 4)}


def drawing_frame(area: Area, references: list[Video]) -> Video | None:
    """The video whose poster the masks are drawn on: the first reference flight with a poster, else the
    area's newest ready video with one."""
    ready = Video.objects.filter(mission__area=area, status=Video.Status.READY).order_by("-mission__date", "-pk")
    return next((v for v in [*references, *ready[:50]] if (Path(settings.MEDIA_ROOT) / v.poster_path).is_file()),
                None)
