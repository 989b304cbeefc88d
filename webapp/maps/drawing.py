"""Masks drawn on the area map: corners clicked over the area's mosaic, stored as a ground mask.

The page turns each click into map metres with plotly's axes, the ones that draw the markers; here the metres
become latitudes and longitudes through the mosaic's `GeoOrigin.to_latlon`, the inverse of the `to_metres` that
places the markers and outlines the masks (`payload`), and the mask is created by `catalog.masks.add_ground_mask`
like any other ground mask. A mask is drawn over a georeferenced mosaic only, and inside it: the mosaic is what
shows the analyst the place they mask, and it fixes the origin the page's metres are counted from. The page
sends the mosaic job it drew on, so corners drawn before a rebuild (another origin) are refused, not misplaced.
"""

from __future__ import annotations

import numpy as np
from django.core.exceptions import ValidationError

from detection.masks import MAX_POINTS, inside
from webapp.catalog.masks import add_ground_mask
from webapp.catalog.models import AreaMask
from webapp.detectors.models import Event
from webapp.maps.mosaics import AreaMosaic, current_mosaic

NO_MOSAIC = ("This area has no mosaic to draw on yet: build it from the reference flight, then draw the mask "
             "over it (or draw it on a frame of a reference flight on the area page).")
ROUTE_MOSAIC = ("The area mosaic is in route coordinates (its flight has no telemetry): a mask drawn on it has no "
                "place on the ground. Pin a reference flight with telemetry and rebuild the mosaic, or draw the "
                "mask on a frame on the area page.")


class MosaicChanged(ValidationError):
    """The page drew on another mosaic than the area's current one: its metres may have another origin."""


def drawing_mosaic(area, job_id) -> AreaMosaic:
    """The area's current mosaic, if it is georeferenced and the one the page drew on (`job_id`)."""
    if not isinstance(job_id, int) or isinstance(job_id, bool):
        raise ValidationError("say which mosaic the mask was drawn on: \"mosaic\", the id of its job")
    mosaic = current_mosaic(area)
    if mosaic is None:
        raise ValidationError(NO_MOSAIC)
    if not mosaic.info.georeferenced:
        raise ValidationError(ROUTE_MOSAIC)
    if job_id != mosaic.job.pk:
        raise MosaicChanged("The area mosaic was rebuilt since this map was loaded: reload the page and draw the "
                            "mask again.")
    return mosaic


def mosaic_bounds(mosaic: AreaMosaic) -> tuple[float, float, float, float]:
    """(west, east, south, north) map metres of the mosaic's rectangle (`top_left` is its north-west corner)."""
    (left, top), (width, height) = mosaic.info.top_left, mosaic.info.size
    return left, left + width, top - height, top


def check_map_polygon(points, bounds) -> list[tuple[float, float]]:
    """The corners as [(east, north)] metres, each inside `bounds` (see `mosaic_bounds`), edges not crossing;
    a ValidationError naming the first problem otherwise."""
    if not isinstance(points, (list, tuple)):
        raise ValidationError("a mask drawn on the map is a list of [east, north] corners in map metres")
    if not 3 <= len(points) <= MAX_POINTS:
        raise ValidationError(f"a mask needs 3 to {MAX_POINTS} corners, not {len(points)}: click at least three "
                              "points around the place")
    polygon = [_corner(number, point, bounds) for number, point in enumerate(points, start=1)]
    crossing = first_crossing(polygon)
    if crossing is not None:
        a, b = crossing
        raise ValidationError(f"the mask's edges {_edge(a, len(polygon))} and {_edge(b, len(polygon))} cross: click "
                              "the corners in order around the place")
    return polygon


def _corner(number: int, point, bounds) -> tuple[float, float]:
    if not isinstance(point, (list, tuple)) or len(point) != 2:
        raise ValidationError(f"corner {number} is not an [east, north] pair")
    try:
        east, north = float(point[0]), float(point[1])
    except (TypeError, ValueError):
        raise ValidationError(f"corner {number} is not a pair of numbers") from None
    west_edge, east_edge, south_edge, north_edge = bounds
    if not (np.isfinite(east) and np.isfinite(north)):
        raise ValidationError(f"corner {number} is not a pair of numbers")
    if not (west_edge <= east <= east_edge and south_edge <= north <= north_edge):
        raise ValidationError(f"corner {number} ({east:.0f} m east, {north:.0f} m north) lies outside the area "
                              "mosaic: draw the mask over the mosaic")
    return east, north


def _edge(index: int, count: int) -> str:
    return f"{index + 1}–{(index + 1) % count + 1}"


def first_crossing(polygon) -> tuple[int, int] | None:
    """The first two edges of the closed polygon (edge i runs from corner i to corner i+1) that cross or touch
    without being neighbours, or None: a polygon whose edges cross masks a shape the analyst did not mean."""
    corners = np.asarray(polygon, dtype=np.float64)
    starts, ends = corners, np.roll(corners, -1, axis=0)
    count = len(corners)
    for i in range(count):
        later = np.arange(i + 2, count - (1 if i == 0 else 0))  # not the edge itself nor its neighbours
        meets = _segments_meet(starts[i], ends[i], starts[later], ends[later])
        if meets.any():
            return i, int(later[np.argmax(meets)])
    return None


def _segments_meet(p, q, starts, ends) -> np.ndarray:
    """Whether segment p-q meets each segment starts[k]-ends[k] (shapes (2,), (2,), (K, 2), (K, 2))."""
    def side(a, b, c):  # the sign of the turn a -> b -> c, for each row
        ab, ac = b - a, c - a
        return np.sign(ab[..., 0] * ac[..., 1] - ab[..., 1] * ac[..., 0])

    d1, d2 = side(starts, ends, p), side(starts, ends, q)
    d3, d4 = side(p, q, starts), side(p, q, ends)
    proper = (d1 * d2 < 0) & (d3 * d4 < 0)
    return proper | _touching(p, q, starts, ends, d1, d2, d3, d4)


def _touching(p, q, starts, ends, d1, d2, d3, d4) -> np.ndarray:
    """A corner of one segment lying on the other (collinear, within its box)."""
    def on(a, b, c):  # c within the box of a-b
        return ((np.minimum(a[..., 0], b[..., 0]) <= c[..., 0]) & (c[..., 0] <= np.maximum(a[..., 0], b[..., 0]))
                & (np.minimum(a[..., 1], b[..., 1]) <= c[..., 1]) & (c[..., 1] <= np.maximum(a[..., 1], b[..., 1])))

    p, q = np.broadcast_to(p, starts.shape), np.broadcast_to(q, starts.shape)
    return (((d1 == 0) & on(starts, ends, p)) | ((d2 == 0) & on(starts, ends, q))
            | ((d3 == 0) & on(p, q, starts)) | ((d4 == 0) & on(p, q, ends)))


def map_to_ground(mosaic: AreaMosaic, polygon) -> list[tuple[float, float]]:
    """Map metres of the mosaic's map as [(latitude, longitude)]: its origin's inverse of the markers' transform."""
    east, north = np.asarray(polygon, dtype=np.float64).T
    latitude, longitude = mosaic.info.origin.to_latlon(east, north)
    return list(zip(np.asarray(latitude).tolist(), np.asarray(longitude).tolist()))


def add_map_mask(area, mosaic: AreaMosaic, points, user, name: str) -> AreaMask:
    """A ground mask of the area from corners drawn in map metres over `mosaic` (`drawing_mosaic`: the one the
    page drew on); ValidationError saying what is wrong with them."""
    polygon = check_map_polygon(points, mosaic_bounds(mosaic))
    return add_ground_mask(area, map_to_ground(mosaic, polygon), user, name)


def events_inside(area, mask: AreaMask) -> list[int]:
    """The ids of the area's placed events whose ground position lies in the ground mask: the next scoring of
    their videos will not raise them (the frame test of `detection.masks.GroundMasks` sees the same place)."""
    latitude, longitude = np.asarray(mask.points, dtype=np.float64).T
    near = Event.objects.filter(score_run__video__mission__area=area, latitude__range=(latitude.min(), latitude.max()),
                                longitude__range=(longitude.min(), longitude.max()))
    rows = list(near.values_list("pk", "latitude", "longitude"))
    if not rows:
        return []
    ids, lats, lons = zip(*rows)
    hit = inside(np.asarray(lons), np.asarray(lats), [(lon, lat) for lat, lon in mask.points])
    return [pk for pk, yes in zip(ids, hit) if yes]
