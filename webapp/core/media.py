"""Serving stored files: the one way a file under MEDIA_ROOT leaves the app (`stored_file_response`).

Every view that sends a stored file (a video's proxy, poster, thumbnails and original, a detector's
reconstructions and evaluation files, an export's zip) goes through `stored_file_response`, so that nothing
stored is ever served as something a browser runs: only known media types are sent inline, everything else
(an original, a user's file, data) as an `application/octet-stream` or data attachment, always with
`nosniff` and a sandboxing CSP. Without this, a `.html` or `.js` file planted in a video folder would run
on the app's own origin, where the app's CSP allows scripts from 'self'.

Byte ranges are honoured (players seek, downloads resume): one range per request (what players send); a
multi-range request gets the whole file. Only users who may see the video's mission get its bytes; paths are
resolved inside the video's own folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.http import require_safe

from webapp.catalog.access import get_video_or_404
from webapp.core.params import BadParameter, quoted

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
BLOCK = 256 * 1024
# What a browser may show in the page (players, <img>); the rest is downloaded, never rendered.
INLINE_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".png": "image/png"}
DOWNLOAD_TYPES = {".json": "application/json", ".zip": "application/zip", ".csv": "text/csv; charset=utf-8",
                  ".md": "text/markdown; charset=utf-8"}
OPAQUE_TYPE = "application/octet-stream"
# Should a stored file be opened as a document anyway, it runs in a sandbox with nothing allowed.
MEDIA_CSP = "sandbox; default-src 'none'"
NAME_MAX = 255  # bytes in one path component on the file systems media lives on


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions of a single `bytes=` range; None when there is none to honour.

    Raises ValueError for a range that cannot be satisfied (answered 416)."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(size - length, 0), size - 1
    first = int(first)
    last = min(int(last), size - 1) if last else size - 1
    if first >= size or last < first:
        raise ValueError("range outside the file")
    return first, last


def read_span(path: Path, first: int, last: int):
    with open(path, "rb") as handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            block = handle.read(min(BLOCK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def media_file(video, name: str) -> Path:
    """The file `name` inside the video's folder; 404 when it is not there, 400 when it cannot be a name."""
    if "\0" in name or any(len(part.encode()) > NAME_MAX for part in name.split("/")):
        raise BadParameter(f"{quoted(name)} cannot be a media file name (a NUL, or a part over {NAME_MAX} bytes)")
    folder = (Path(settings.MEDIA_ROOT) / video.media_dir).resolve()
    try:
        path = (folder / name).resolve()
        found = path.is_relative_to(folder) and path.is_file()
    except OSError:  # e.g. a path longer than the system allows in all
        found = False
    if not found:
        raise Http404("no such media file")
    return path


def media_type(name: str) -> tuple[str, bool]:
    """(Content-Type, whether it may be shown inline) for a stored file, from an allow-list of extensions."""
    suffix = Path(name).suffix.lower()
    if suffix in INLINE_TYPES:
        return INLINE_TYPES[suffix], True
    return DOWNLOAD_TYPES.get(suffix, OPAQUE_TYPE), False


def stored_file_response(request: HttpRequest, path: Path, *, download_name: str = "") -> HttpResponse:
    """Send a stored file (Range honoured) so that no browser ever runs it; see the module docstring."""
    stat = path.stat()
    content_type, inline = media_type(path.name)
    try:
        span = parse_range(request.headers.get("Range", ""), stat.st_size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{stat.st_size}"
        return harden(response)
    if span is None:
        response = FileResponse(open(path, "rb"), content_type=content_type)
    else:
        first, last = span
        response = StreamingHttpResponse(read_span(path, first, last), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{stat.st_size}"
        response["Content-Length"] = str(last - first + 1)
    response["Content-Disposition"] = content_disposition_header(not inline, download_name or path.name)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = "private, max-age=3600"
    return harden(response)


def harden(response: HttpResponse) -> HttpResponse:
    """Headers every media response carries, whatever the middleware or settings say."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


@require_safe
def video_media(request: HttpRequest, video_id: int, name: str) -> HttpResponse:
    return stored_file_response(request, media_file(get_video_or_404(request, video_id), name))
