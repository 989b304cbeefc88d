"""A real RTSP server for live-stream tests: GStreamer's (gir1.2-gst-rtsp-server-1.0), relaying an MPEG-TS feed.

Run by the system Python, which has PyGObject (python3-gi), not by the project's virtual environment:

    /usr/bin/python3 tests/support/rtsp_server.py RTSP_PORT FEED_PORT

It serves rtsp://127.0.0.1:RTSP_PORT/drone. The first client to PLAY starts the shared pipeline, which takes
the H.264 MPEG-TS that FFmpeg sends to udp://127.0.0.1:FEED_PORT and payloads it as RTP, as a drone's or
ground station's RTSP server does. It prints "ready" once listening and runs until terminated.
"""

from __future__ import annotations

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402 - after require_version, as PyGObject asks


def main() -> None:
    rtsp_port, feed_port = sys.argv[1], int(sys.argv[2])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(rtsp_port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( udpsrc port={feed_port} caps=video/mpegts,systemstream=true ! tsdemux ignore-pcr=true ! h264parse "
                       "config-interval=-1 ! video/x-h264,stream-format=avc,alignment=au "
                       "! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    factory.set_shared(True)
    server.get_mount_points().add_factory("/drone", factory)
    server.attach(None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
