"""A mosaic on disk: a tiled image pyramid, and `mosaic.json` saying where it lies.

Level 0 is the mosaic at full resolution; each next level is half the size of the one before, down to the
first that fits one tile. Every level is cut into `TILE_SIZE` x `TILE_SIZE` JPEG tiles stored as
`tiles/<level>/<x>/<y>.jpg` (x the tile column, y the tile row from the top: the z/x/y layout of web maps, with
the level counted from the finest); the tiles of the right and bottom edges are cut short, not padded, so a
level's tiles put side by side are the level image. A page shows the level that fits its view and fetches only
the tiles in view (`MosaicInfo.tile_file`), so zooming into a long patrol's mosaic never loads all of it.

`mosaic.json` is written last, so a folder without it is an unfinished build and is never read. Version 1
mosaics (written before tiles) kept each level as one JPEG (`MosaicLevel.file`); they are still read, and a
page draws the level that fits as one image.
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
FORMAT_VERSION = 2  # 2: tiles; 1: one JPEG per level (still read)
READABLE_VERSIONS = (1, 2)
INFO_FILE = "mosaic.json"
TILE_SIZE = 256
TILE_PATH = "tiles/{level}/{x}/{y}.jpg"
JPEG_QUALITY = 85


@dataclass(frozen=True)
class MosaicLevel:
    width: int
    height: int
    resolution: float  # map units (metres, or route units) per pixel of this level
    file: str = ""  # a version-1 mosaic's JPEG of the whole level; "" in a tiled one


@dataclass(frozen=True)
class MosaicInfo:
    """Where a stored mosaic lies: map coordinates are metres east and *north* of `origin` here (the
    convention of the pages: north up); `top_left` is the map point of level 0's top-left corner.
    `tile_size` is 0 for a version-1 mosaic (whole levels, no tiles)."""

    origin: GeoOrigin | None
    top_left: tuple[float, float]
    levels: tuple[MosaicLevel, ...]
    stats: dict
    tile_size: int = 0

    @property
    def georeferenced(self) -> bool:
        return self.origin is not None

    @property
    def tiled(self) -> bool:
        return self.tile_size > 0

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the mosaic in map units."""
        level = self.levels[0]
        return level.width * level.resolution, level.height * level.resolution

    def level_for(self, max_side: int) -> MosaicLevel:
        """The largest level whose longest side is at most `max_side` pixels (the smallest if none is)."""
        fitting = [lvl for lvl in self.levels if max(lvl.width, lvl.height) <= max_side]
        return fitting[0] if fitting else self.levels[-1]

    def tile_grid(self, level: int) -> tuple[int, int]:
        """(columns, rows) of tiles of `level`."""
        if not self.tiled:
            raise ValueError("this mosaic was stored before tiles (version 1): it has whole levels only")
        lvl = self.levels[level]
        return -(-lvl.width // self.tile_size), -(-lvl.height // self.tile_size)

    def tile_file(self, level: int, x: int, y: int) -> str | None:
        """The path, relative to the mosaic's folder, of tile (`x`, `y`) of `level`; None where there is none."""
        if not self.tiled or not 0 <= level < len(self.levels):
            return None
        columns, rows = self.tile_grid(level)
        if not (0 <= x < columns and 0 <= y < rows):
            return None
        return TILE_PATH.format(level=level, x=x, y=y)

    def to_map(self, latitude, longitude) -> tuple[np.ndarray, np.ndarray]:
        """Metres east and north of the origin of points in degrees."""
        if self.origin is None:
            raise ValueError("this mosaic is in route coordinates: it cannot place latitudes and longitudes")
        return self.origin.to_metres(latitude, longitude)


def pyramid_levels(image: np.ndarray, resolution: float, smallest: int = TILE_SIZE):
    """(level image, its resolution) from `image` down, each half the one before, the last no larger than
    `smallest` pixels a side (or 1 pixel)."""
    while True:
        yield image, resolution
        if max(image.shape[:2]) <= smallest:
            return
        size = (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2))
        resolution *= image.shape[1] / size[0]
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"could not encode {path.name} ({image.shape}) as JPEG")
    write_bytes(path, encoded.tobytes())


def save_pyramid(mosaic: Mosaic, folder: Path | str) -> MosaicInfo:
    """Write `mosaic`'s tiles and `mosaic.json` into `folder` (created); returns what was written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    levels = []
    for index, (image, resolution) in enumerate(pyramid_levels(mosaic.image, mosaic.resolution)):
        height, width = image.shape[:2]
        for top in range(0, height, TILE_SIZE):
            for left in range(0, width, TILE_SIZE):
                name = TILE_PATH.format(level=index, x=left // TILE_SIZE, y=top // TILE_SIZE)
                _write_jpeg(folder / name, image[top:top + TILE_SIZE, left:left + TILE_SIZE])
        levels.append(MosaicLevel(width, height, resolution))
    east, south = mosaic.top_left
    info = MosaicInfo(mosaic.origin, (east, -south), tuple(levels), dict(mosaic.stats), TILE_SIZE)
    document = {"format": FORMAT, "version": FORMAT_VERSION,
                "origin": None if info.origin is None else [info.origin.latitude, info.origin.longitude],
                "top_left": list(info.top_left), "tile_size": TILE_SIZE, "tile_path": TILE_PATH,
                "levels": [{"width": lvl.width, "height": lvl.height, "resolution": lvl.resolution} for lvl in levels],
                "stats": info.stats}
    write_text(folder / INFO_FILE, json.dumps(plain_json(document), indent=1) + "\n")
    return info


def load_info(folder: Path | str) -> MosaicInfo:
    """Read a folder's `mosaic.json`; ValueError naming the file when it is missing or not a mosaic's."""
    path = Path(folder) / INFO_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        version = document.get("version")
        if document.get("format") != FORMAT or version not in READABLE_VERSIONS:
            raise ValueError(f"format {document.get('format')!r} version {version!r}")
        origin = document["origin"]
        levels = tuple(MosaicLevel(int(lvl["width"]), int(lvl["height"]), float(lvl["resolution"]),
                                   str(lvl["file"]) if version == 1 else "") for lvl in document["levels"])
        if not levels or any(Path(lvl.file).name != lvl.file or bool(lvl.file) != (version == 1) for lvl in levels):
            raise ValueError("no levels, a level file outside the folder, or a version-1 level without one")
        tile_size = int(document["tile_size"]) if version >= 2 else 0
        if version >= 2 and (tile_size <= 0 or document.get("tile_path") != TILE_PATH):
            raise ValueError(f"tiles of {tile_size} px at {document.get('tile_path')!r}, not {TILE_PATH!r}")
        return MosaicInfo(None if origin is None else GeoOrigin(float(origin[0]), float(origin[1])),
                          (float(document["top_left"][0]), float(document["top_left"][1])), levels,
                          dict(document.get("stats") or {}), tile_size)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{path} is not a readable mosaic description: {exc}") from exc
