"""The tus 1.0 resumable upload protocol (core + creation + termination), independent of who is asking.

Bytes are appended to MEDIA_ROOT/uploads/<uuid>.part at the offset the database row holds. Writers of one
upload take an exclusive lock on its part file and re-read the offset under it, so two requests racing for
the same offset cannot both write; the sha256 is kept running as chunks arrive (see checksum.py).
See https://tus.io/protocols/resumable-upload for the protocol.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import os
import re
import shutil
import unicodedata
from pathlib import Path

from django.conf import settings
from django.db.models import F, Sum
from django.http import HttpResponse, JsonResponse

from webapp.core.params import MAX_ID, MAX_ID_DIGITS
from webapp.uploads import checksum
from webapp.uploads.models import UploadSession

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
READ_BLOCK = 1024 * 1024
DISK_RESERVE_BYTES = 1024**3  # never fill the disk the database and the other media live on


class UploadRejected(Exception):
    """A request the protocol refuses; `status` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str, *, final: bool = False):
        super().__init__(message)
        self.status = status
        self.final = final  # the upload is over: retrying cannot help


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"


def tus_response(status: int = 204, **headers) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def error_response(exc: UploadRejected) -> JsonResponse:
    response = JsonResponse({"error": str(exc), "final": exc.final}, status=exc.status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def options_response() -> HttpResponse:
    return tus_response(
        204, Tus_Version=TUS_VERSION, Tus_Extension=TUS_EXTENSIONS, Tus_Max_Size=settings.UPLOAD_MAX_BYTES
    )


def check_version(request) -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise UploadRejected(412, f"this server speaks tus {TUS_VERSION}; send the Tus-Resumable header")


def parse_metadata(header: str) -> dict[str, str]:
    """Decode `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent)."""
    metadata = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):  # ValueError: non-ASCII text, or bytes that are not UTF-8
            raise UploadRejected(400, f"Upload-Metadata value for {key!r} is not base64 UTF-8") from None
    return metadata


def display_name(raw: str) -> str:
    """A name for display only: the last path component, without control characters, at most 255 long."""
    name = re.split(r"[\\/]", raw or "")[-1]
    # Control and format characters go; line and paragraph separators become spaces.
    name = "".join(" " if unicodedata.category(ch) in ("Zl", "Zp") else ch for ch in name
                   if unicodedata.category(ch)[0] != "C").strip()
    return name[:255] or "video"


def parse_length(value: str | None, name: str) -> int:
    """A byte count or offset header: ASCII digits that fit a 64-bit column (the database keeps them).

    Longer numbers are refused before int(): Python will not convert 4,300+ digits, and a float of 309+
    digits (for the size in messages) overflows."""
    if value is None or not (value.isascii() and value.isdigit()):
        raise UploadRejected(400, f"{name} must be a non-negative whole number of bytes")
    if len(value) > MAX_ID_DIGITS or int(value) > MAX_ID:
        raise UploadRejected(400, f"{name} is too large: at most {MAX_ID} bytes")
    return int(value)


def part_file(session: UploadSession) -> Path:
    return Path(settings.MEDIA_ROOT) / session.part_path


def create_session(request, mission) -> UploadSession:
    """Handle a creation request (POST) for an upload into `mission`."""
    check_version(request)
    if request.headers.get("Upload-Defer-Length"):
        raise UploadRejected(400, "Upload-Defer-Length is not supported: send Upload-Length")
    length = parse_length(request.headers.get("Upload-Length"), "Upload-Length")
    limit = settings.UPLOAD_MAX_BYTES
    if length > limit:
        raise UploadRejected(
            413, f"the file is {human_size(length)}, larger than the {human_size(limit)} upload limit", final=True
        )
    if length == 0:
        raise UploadRejected(400, "the file is empty", final=True)
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    session = UploadSession.objects.create(
        mission=mission, filename=display_name(metadata.get("filename", "")), length=length, created_by=request.user
    )
    try:  # checked after the row is in, so that two creations at once each see the other's reservation
        check_active_uploads(session)
        check_space(session)
    except UploadRejected:
        session.delete()
        raise
    path = part_file(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return session


def unfinished_uploads():
    return UploadSession.objects.filter(state=UploadSession.State.RECEIVING)


def check_active_uploads(session: UploadSession) -> None:
    """At most MAX_ACTIVE_UPLOADS_PER_USER unfinished uploads per user (this one included), so that one account
    cannot hold the disk with promises it never sends."""
    limit = settings.MAX_ACTIVE_UPLOADS_PER_USER
    if unfinished_uploads().filter(created_by=session.created_by_id).count() > limit:
        raise UploadRejected(
            429, f"you already have {limit} unfinished uploads, the most allowed at once; finish or cancel one "
            "before starting another (an administrator can remove abandoned ones with manage.py purge_uploads)"
        )


def check_space(session: UploadSession) -> None:
    """The bytes still to come of every unfinished upload (this one included) must fit in the free space less
    DISK_RESERVE_BYTES: free space alone let five 20 GB uploads each fit into 62 GB."""
    uploads = Path(settings.MEDIA_ROOT) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    available = max(shutil.disk_usage(uploads).free - DISK_RESERVE_BYTES, 0)
    others = unfinished_uploads().exclude(pk=session.pk)
    promised = others.aggregate(remaining=Sum(F("length") - F("offset")))["remaining"] or 0
    if promised + session.length <= available:
        return
    held = f" ({human_size(promised)} of it promised to {others.count()} unfinished upload(s))" if promised else ""
    raise UploadRejected(
        507, f"the server has {human_size(available)} free for uploads{held}, not enough for this "
        f"{human_size(session.length)} file; ask an administrator to free some space", final=True
    )


def read_body(stream, limit: int, out) -> int:
    """Copy up to `limit` bytes of the request body to `out`; a dropped connection keeps what arrived."""
    received = 0
    while received < limit:
        try:
            block = stream.read(min(READ_BLOCK, limit - received))
        except OSError:  # the client went away mid-chunk: keep the bytes we have
            break
        if not block:
            break
        out.write(block)
        received += len(block)
    return received


def append_chunk(request, session: UploadSession, stream) -> UploadSession:
    """Handle a PATCH: append the body at Upload-Offset and advance the offset by what was received."""
    check_version(request)
    if session.state != UploadSession.State.RECEIVING:
        raise UploadRejected(410, session.error or "this upload is already finished", final=True)
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type != OFFSET_CONTENT_TYPE:
        raise UploadRejected(415, f"PATCH bodies must be {OFFSET_CONTENT_TYPE}")
    offset = parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
    if offset != session.offset:
        raise UploadRejected(409, f"Upload-Offset {offset} does not match the server's offset {session.offset}")
    declared = parse_length(request.headers.get("Content-Length", "0") or "0", "Content-Length")
    if offset + declared > session.length:
        raise UploadRejected(413, f"this chunk would go past the declared length of {session.length} bytes")
    path = part_file(session)
    if not path.exists():
        raise UploadRejected(410, "the partial file was lost on the server; start the upload again", final=True)
    with open(path, "r+b") as out:
        fcntl.flock(out, fcntl.LOCK_EX)  # one writer per upload at a time, across processes
        session.refresh_from_db(fields=["offset", "state"])
        if offset != session.offset or session.state != UploadSession.State.RECEIVING:
            raise UploadRejected(409, f"Upload-Offset {offset} does not match the server's offset {session.offset}")
        if os.fstat(out.fileno()).st_size < offset:
            raise UploadRejected(410, "the partial file was lost on the server; start the upload again", final=True)
        running = checksum.resume(session.pk, offset)
        out.seek(offset)
        try:
            received = read_body(stream, declared, checksum.HashingWriter(out, running))
            out.truncate()
            out.flush()
            os.fsync(out.fileno())
        except OSError as exc:  # the disk is full (or failing): drop this chunk, keep the rest
            out.truncate(offset)
            raise UploadRejected(507, f"the server could not store this chunk ({exc.strerror}); try again later") from None
        UploadSession.objects.filter(pk=session.pk).update(offset=offset + received)
        checksum.keep(session.pk, offset + received, running)
    session.offset = offset + received
    return session


def head_response(session: UploadSession) -> HttpResponse:
    if session.state == UploadSession.State.REJECTED:
        return error_response(UploadRejected(410, session.error or "this upload was rejected", final=True))
    headers = {"Upload_Offset": session.offset, "Upload_Length": session.length}
    if session.video_id:
        headers.update(Skerry_Video_Id=session.video_id, Skerry_Video_Url=session.video.get_absolute_url())
    return tus_response(200, **headers)


def terminate(session: UploadSession) -> None:
    part_file(session).unlink(missing_ok=True)
    session.delete()
