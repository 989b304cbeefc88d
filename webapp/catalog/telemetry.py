"""A video's telemetry sidecar (DJI .SRT, GPX, CSV): stored beside its original, read into `poses.npz`.

The sidecar is kept as `videos/<id>/telemetry<ext>`, <ext> one of SIDECAR_EXTENSIONS taken from the given
name (it chooses the reader), never a user's file name. Reading it with `detection.telemetry.read_telemetry`
writes `poses.npz` and the Video row's summary (has_telemetry, pose_count, start and end position). A
malformed sidecar changes nothing but `telemetry_error`, its line-numbered message: the video, its ingest and
any poses read earlier stay as they were. Attaching reads at once (parsing is cheap and bounded by
TELEMETRY_MAX_BYTES, so the answer can say whether it worked); ingest reads the stored sidecar again, which is
how a manifest import's sidecar gets read. Pages, the API, the import and the ingest worker all come here.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from detection.errors import TelemetryError
from detection.telemetry import PoseTable, read_telemetry
from detection.telemetry.poses import COLUMNS
from webapp.catalog.models import Video
from webapp.uploads.protocol import display_name, human_size

SIDECAR_EXTENSIONS = (".srt", ".gpx", ".csv")
SUMMARY_FIELDS = ("telemetry_name", "telemetry_file", "telemetry_error", "has_telemetry", "pose_count",
                  "start_latitude", "start_longitude", "end_latitude", "end_longitude")


class SidecarRejected(Exception):
    """A file that is not taken as a sidecar at all (wrong kind, too large); `status` is the HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def sidecar_extension(name: str) -> str:
    """The stored sidecar's extension, from the allow-list; SidecarRejected for any other file."""
    suffix = Path(name).suffix.lower()
    if suffix not in SIDECAR_EXTENSIONS:
        raise SidecarRejected(400, f"“{name}” is not a telemetry sidecar: expected a DJI .SRT, a .GPX track or "
                                   f"a .CSV flight log")
    return suffix


def check_size(name: str, size: int) -> None:
    limit = settings.TELEMETRY_MAX_BYTES
    if size > limit:
        raise SidecarRejected(413, f"“{name}” is {human_size(size)}, larger than the {human_size(limit)} "
                                   f"telemetry limit (SKERRY_TELEMETRY_MAX_BYTES)")


def stem(name: str) -> str:
    """What a video and its sidecar share: `DJI_0042.MP4` and `DJI_0042.SRT` both give `dji_0042`."""
    return Path(name).stem.casefold()


def video_for_sidecar(mission, name: str) -> Video:
    """The one video of `mission` whose file name has the sidecar's stem; SidecarRejected (404/409) otherwise."""
    matches = [video for video in mission.videos.all() if stem(video.original_name) == stem(name)]
    if not matches:
        raise SidecarRejected(404, f"no video of this mission is called {Path(name).stem}.*: upload the video "
                                   f"with its sidecar, or add the sidecar from the video's page")
    if len(matches) > 1:
        raise SidecarRejected(409, f"{len(matches)} videos of this mission are called {Path(name).stem}.*: "
                                   f"add the sidecar from the right video's page")
    return matches[0]


def attach_sidecar(video: Video, name: str, chunks: Iterable[bytes], size: int) -> Video:
    """Store and read a sidecar given for `video`; a malformed one is only recorded in `telemetry_error`.

    SidecarRejected if it is not a sidecar or too large (nothing is stored)."""
    name = display_name(name)  # shown on pages and in messages only; never part of a path
    suffix = sidecar_extension(name)
    check_size(name, size)
    folder = media_root() / video.media_dir
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / f".telemetry-{uuid.uuid4().hex}{suffix}"
    try:
        with open(incoming, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        poses = _read(video, incoming, name)
        if poses is None:
            return video
        for old in folder.glob("telemetry.*"):
            old.unlink()
        target = folder / f"telemetry{suffix}"
        os.replace(incoming, target)
    finally:
        incoming.unlink(missing_ok=True)
    _store_poses(video, poses, name=name, relative=f"{video.media_dir}/{target.name}")
    return video


def read_stored_sidecar(video: Video) -> dict | None:
    """Read the video's stored sidecar again (ingest does); None without one, else what came of it."""
    video.refresh_from_db(fields=["telemetry_name", "telemetry_file"])
    if not video.telemetry_file:
        return None
    path = media_root() / video.telemetry_file
    try:
        check_size(video.telemetry_name, path.stat().st_size if path.is_file() else 0)
    except SidecarRejected as exc:
        _save(video, telemetry_error=str(exc))
        return {"error": video.telemetry_error}
    poses = _read(video, path, video.telemetry_name)
    if poses is None:
        return {"error": video.telemetry_error}
    _store_poses(video, poses, name=video.telemetry_name, relative=video.telemetry_file)
    return {"poses": video.pose_count}


def place_sidecar(video: Video, source: Path, place) -> Path:
    """Put a manifest row's sidecar in the video's folder with `place(source, target)`; ingest reads it."""
    suffix = sidecar_extension(source.name)
    relative = f"{video.media_dir}/telemetry{suffix}"
    target = media_root() / relative
    place(source, target)
    _save(video, telemetry_name=source.name[:255], telemetry_file=relative)
    return target


def _read(video: Video, path: Path, name: str) -> PoseTable | None:
    """The poses, or None after recording the line-numbered reason (naming the user's file) on the video."""
    try:
        return read_telemetry(path)
    except TelemetryError as exc:
        _save(video, telemetry_error=str(exc).replace(exc.path.name, f"“{name}”", 1))
        return None


def _store_poses(video: Video, poses: PoseTable, *, name: str, relative: str) -> None:
    """Write poses.npz (whole, then moved into place) and the row's summary of it."""
    target = media_root() / video.poses_path
    partial = target.with_name(f".poses-{uuid.uuid4().hex}.npz")
    poses.save(partial)
    os.replace(partial, target)
    _save(video, telemetry_name=name[:255], telemetry_file=relative, telemetry_error="", has_telemetry=True,
          pose_count=len(poses), start_latitude=float(poses.latitude[0]), start_longitude=float(poses.longitude[0]),
          end_latitude=float(poses.latitude[-1]), end_longitude=float(poses.longitude[-1]))


def _save(video: Video, **fields) -> None:
    Video.objects.filter(pk=video.pk).update(**fields)
    for name, value in fields.items():
        setattr(video, name, value)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def load_poses(video: Video) -> PoseTable | None:
    """The video's pose table, or None if it has none."""
    path = media_root() / video.poses_path
    if not video.has_telemetry or not path.is_file():
        return None
    return PoseTable.load(path)


def pose_columns(poses: PoseTable) -> dict[str, list[float | None]]:
    """Every column as a JSON list; a value the sidecar does not record (NaN) is null."""
    return {name: [value if math.isfinite(value) else None for value in getattr(poses, name).tolist()]
            for name in COLUMNS}


def telemetry_state(video: Video) -> dict:
    """What the pages and the API say about a video's telemetry."""
    return {"video": video.pk, **{name: getattr(video, name) for name in SUMMARY_FIELDS if name != "telemetry_file"}}


COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def pose_readout(poses: PoseTable, time: float) -> dict[str, str]:
    """The pose at `time` as the video page shows it (static/catalog/flight.js formats it the same way)."""
    pose = {name: float(getattr(poses.at(time), name)[0]) for name in COLUMNS}

    def shown(name: str, text) -> str:
        return text(pose[name]) if math.isfinite(pose[name]) else "–"

    return {
        "latitude": shown("latitude", lambda v: f"{v:.6f}°"),
        "longitude": shown("longitude", lambda v: f"{v:.6f}°"),
        "rel_alt": shown("rel_alt", lambda v: f"{v:.1f} m"),
        "abs_alt": shown("abs_alt", lambda v: f"{v:.1f} m"),
        "heading": shown("yaw", lambda v: f"{v % 360:05.1f}° {COMPASS[round(v % 360 / 45) % 8]}"),
        "pitch": shown("pitch", lambda v: f"{v:.0f}°"),
    }
