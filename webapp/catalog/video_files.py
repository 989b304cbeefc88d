"""What the app accepts as a video file, and the extension its stored original gets.

Uploads (tus) and manifest imports both check files here, so a file one of them refuses the other refuses
too, with the same message. A stored original never keeps a user-chosen extension outside VIDEO_EXTENSIONS:
a name like `report.html` or `planted.js` would otherwise become `original.html` under the app's own origin.
"""

from __future__ import annotations

from pathlib import Path

from detection.errors import VideoError
from detection.video.probe import probe

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg"}
CONTAINER_EXTENSIONS = {"mp4": ".mp4", "mov": ".mov", "matroska": ".mkv", "webm": ".webm", "avi": ".avi", "mpegts": ".ts"}
FALLBACK_EXTENSION = ".video"  # a probed video whose name and container are both unknown
# Under MEDIA_ROOT: native-resolution frames decoded once per video and rate (CHANGE trains and scores on them);
# workers.frames fills it, webapp.catalog.deletion empties a deleted video's entries.
FRAME_CACHE = "frame-cache"


def probe_video_file(path: Path, display_name: str) -> dict:
    """Probe and decode the first frame with `detection.video.probe`; VideoError messages name `display_name`.

    Returns the probed facts as Video field values (container, codec, duration, fps, width, height, rotation).
    """
    try:
        info = probe(path)
    except VideoError as exc:
        raise VideoError(str(exc).replace(path.name, f"“{display_name}”")) from None
    fields = ("container", "codec", "duration", "fps", "width", "height", "rotation")
    facts = {name: getattr(info, name) for name in fields}
    facts["container"] = facts["container"][:40]
    return facts


def safe_extension(filename: str, container: str) -> str:
    """The file's extension if it is a known video one, else one from the probed container format."""
    suffix = Path(filename).suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return suffix
    names = container.split(",")
    return next((CONTAINER_EXTENSIONS[n] for n in CONTAINER_EXTENSIONS if n in names), FALLBACK_EXTENSION)
