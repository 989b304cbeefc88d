"""A mosaic on disk: a few JPEG levels, each half the size of the one before, and `mosaic.json` saying where
they lie.

Levels rather than tiles: even a long patrol's mosaic is a few thousand pixels a side, so a page fetches the
one level that fits its view (`MosaicInfo.level_for`) in a single request, and plotly draws it as a layout
image; no tile server, no map library. `mosaic.json` is written last, so a folder without it is an
unfinished build and is never read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detection.atomic_files import write_bytes, write_text
from detection.json_values import plain_json
from detection.mapping.mosaic import Mosaic
from detection.telemetry import GeoOrigin

FORMAT = "skerry-mosaic"
FORMAT_VERSION = 1
INFO_FILE = "mosaic.json"
SMALLEST_SIDE = 256  # no level is made smaller than this (the last level's longest side is at most twice it)
JPEG_QUALITY = 85


@dataclass(frozen=True)
class MosaicLevel:
    file: str
    width: int
    height: int
    resolution: float  # map units (metres, or route units) per pixel of this level


@dataclass(frozen=True)
class MosaicInfo:
    """Where a stored mosaic lies: map coordinates are metres east and *north* of `origin` here (the
    convention of the pages: north up); `top_left` is the map point of level 0's top-left corner."""

    origin: GeoOrigin | None
    top_left: tuple[float, float]
    levels: tuple[MosaicLevel, ...]
    stats: dict

    @property
    def georeferenced(self) -> bool:
        return self.origin is not None

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the mosaic in map units."""
        level = self.levels[0]
        return level.width * level.resolution, level.height * level.resolution

    def level_for(self, max_side: int) -> MosaicLevel:
        """The largest level whose longest side is at most `max_side` pixels (the smallest if none is)."""
        fitting = [lvl for lvl in self.levels if max(lvl.width, lvl.height) <= max_side]
        return fitting[0] if fitting else self.levels[-1]

    def to_map(self, latitude, longitude) -> tuple[np.ndarray, np.ndarray]:
        """Metres east and north of the origin of points in degrees."""
        if self.origin is None:
            raise ValueError("this mosaic is in route coordinates: it cannot place latitudes and longitudes")
        return self.origin.to_metres(latitude, longitude)


def save_pyramid(mosaic: Mosaic, folder: Path | str) -> MosaicInfo:
    """Write `mosaic`'s levels and `mosaic.json` into `folder` (created); returns what was written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    image, resolution, levels = mosaic.image, mosaic.resolution, []
    while True:
        name = f"level-{len(levels)}.jpg"
        ok, encoded = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError(f"could not encode mosaic level {len(levels)} ({image.shape}) as JPEG")
        write_bytes(folder / name, encoded.tobytes())
        levels.append(MosaicLevel(name, image.shape[1], image.shape[0], resolution))
        if max(image.shape[:2]) <= 2 * SMALLEST_SIDE:
            break
        size = (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2))
        resolution *= image.shape[1] / size[0]
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    east, south = mosaic.top_left
    info = MosaicInfo(mosaic.origin, (east, -south), tuple(levels), dict(mosaic.stats))
    document = {"format": FORMAT, "version": FORMAT_VERSION,
                "origin": None if info.origin is None else [info.origin.latitude, info.origin.longitude],
                "top_left": list(info.top_left), "levels": [vars(lvl) for lvl in levels], "stats": info.stats}
    write_text(folder / INFO_FILE, json.dumps(plain_json(document), indent=1) + "\n")
    return info


def load_info(folder: Path | str) -> MosaicInfo:
    """Read a folder's `mosaic.json`; ValueError naming the file when it is missing or not a mosaic's."""
    path = Path(folder) / INFO_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
            raise ValueError(f"format {document.get('format')!r} version {document.get('version')!r}")
        origin = document["origin"]
        levels = tuple(MosaicLevel(str(lvl["file"]), int(lvl["width"]), int(lvl["height"]), float(lvl["resolution"]))
                       for lvl in document["levels"])
        if not levels or any(Path(lvl.file).name != lvl.file for lvl in levels):
            raise ValueError("no levels, or a level file outside the folder")
        return MosaicInfo(None if origin is None else GeoOrigin(float(origin[0]), float(origin[1])),
                          (float(document["top_left"][0]), float(document["top_left"][1])), levels,
                          dict(document.get("stats") or {}))
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{path} is not a readable mosaic description: {exc}") from exc
