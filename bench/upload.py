"""Server-side cost of a tus upload: PATCH handling in 8 MB chunks, then the completion check (probe + sha256).

Runs Django's request handler in-process (no network), on a throwaway SQLite database and media folder:

    .venv/bin/python bench/upload.py --megabytes 512

The file is a real H.264 MP4 (index first) padded with zeros to the asked size, so the probe works on it.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/, whose queue.py would shadow the standard library


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=512)
    parser.add_argument("--chunk-megabytes", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="skerry-upload-bench-"))
    os.environ.update(DJANGO_SETTINGS_MODULE="webapp.settings", DJANGO_DEBUG="1", SKERRY_VAR_DIR=str(work),
                      DJANGO_ALLOWED_HOSTS="testserver",
                      SKERRY_MEDIA_ROOT=str(work / "media"), DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from tests.support.seed import make_mission, make_user
    from tests.support.videos import make_video

    call_command("migrate", verbosity=0)
    user, mission = make_user("bench", "analyst"), make_mission()
    source = make_video(work / "clip.mp4", seconds=10, width=320, height=240, faststart=True)
    with open(source, "ab") as handle:
        handle.truncate(args.megabytes * 1024**2)
    data = source.read_bytes()
    client = Client()
    client.force_login(user)
    tus = {"Tus-Resumable": "1.0.0"}
    created = client.post(f"/missions/{mission.pk}/uploads/", headers={
        **tus, "Upload-Length": str(len(data)), "Upload-Metadata": "filename " + base64.b64encode(b"b.mp4").decode()})
    location, chunk = created["Location"], args.chunk_megabytes * 1024**2
    started = time.perf_counter()
    last_patch = 0.0
    for offset in range(0, len(data), chunk):
        before = time.perf_counter()
        response = client.patch(location, data=data[offset : offset + chunk],
                                content_type="application/offset+octet-stream",
                                headers={**tus, "Upload-Offset": str(offset)})
        assert response.status_code == 204, response.content
        last_patch = time.perf_counter() - before
    total = time.perf_counter() - started
    mb = len(data) / 1024**2
    print(f"{mb:.0f} MB in {args.chunk_megabytes} MB chunks: {total:.2f} s in all, {mb / total:.0f} MB/s; "
          f"the last PATCH (with probe + sha256 of the whole file) took {last_patch:.2f} s")


if __name__ == "__main__":
    main()
