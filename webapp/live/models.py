"""A mission's live stream: where the feed comes from, where it stands, and the recording it becomes.

The URL is kept without credentials: Skerry stores no stream password (`cryptography` is not a dependency,
so nothing could encrypt it), and a URL given with `user:password@` is refused by `clean_stream_url`.

Telemetry a ground station sends while the drone flies (webapp.live.telemetry) is kept as `LivePose` rows, in
the time base the station chose for the stream (`pose_clock`): video seconds, or Unix seconds that `clock`
turns into video seconds once the worker has seen frames.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models

SCHEMES = ("rtsp", "rtmp", "rtmps", "srt", "udp", "tcp", "http", "https")
LISTEN_SCHEMES = ("tcp", "rtmp", "srt")


def clean_stream_url(url: str) -> str:
    """A stream URL this FFmpeg opens, without credentials; ValidationError saying what is wrong otherwise."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise ValidationError(f"a stream URL starts with one of {', '.join(s + '://' for s in SCHEMES)} and names "
                              "a host, e.g. rtsp://192.168.1.20:8554/drone")
    if parts.username or parts.password:
        raise ValidationError("Skerry does not store stream passwords: give the URL without user:password@ "
                              "(a stream on the ground station's own network), or let the drone push to a "
                              "listening endpoint")
    return url


class PoseClock(models.TextChoices):
    """The JSON key a telemetry row gives its time in: the stream's video seconds, or Unix seconds."""

    VIDEO = "time", "Video seconds (time)"
    UNIX = "timestamp", "Unix seconds (timestamp)"


class LiveStream(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the stream"
        LIVE = "live", "Live"
        RECONNECTING = "reconnecting", "Reconnecting"
        FINISHING = "finishing", "Finishing the recording"
        ENDED = "ended", "Ended"
        FAILED = "failed", "Failed"

    ACTIVE_STATES = (State.WAITING, State.LIVE, State.RECONNECTING, State.FINISHING)

    mission = models.ForeignKey("catalog.Mission", on_delete=models.CASCADE, related_name="live_streams")
    url = models.CharField(max_length=500, help_text="The stream's URL, without credentials.")
    listen = models.BooleanField(default=False, help_text="Skerry listens on the URL and the drone pushes to it.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    error = models.TextField(blank=True)
    detector = models.ForeignKey("detectors.Detector", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="The CAE scoring the stream.")
    video = models.ForeignKey("catalog.Video", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The recording, an ordinary video of the mission once ingested.")
    origin = models.FloatField(null=True, blank=True, help_text="Recording seconds of the first frame.")
    recorded_seconds = models.FloatField(default=0.0)
    gaps = models.JSONField(default=list, blank=True, help_text="[{at, seconds, reason}] where the stream dropped.")
    alerts = models.PositiveIntegerField(default=0)
    stop_requested = models.BooleanField(default=False)
    dropped_frames = models.PositiveIntegerField(default=0)
    started = models.DateTimeField(auto_now_add=True)
    ended = models.DateTimeField(null=True, blank=True)
    clock = models.JSONField(default=list, blank=True, help_text=(
        "[[video_from, offset], ...]: from video second video_from on, Unix time = video time + offset (the "
        "frames' decode times; a new entry after each gap, where the wall clock ran on without video)."))
    pose_clock = models.CharField(max_length=16, choices=PoseClock.choices, blank=True,
                                  help_text="The time base of the telemetry rows, set by the first batch.")
    pose_count = models.PositiveIntegerField(default=0)
    pose_first = models.FloatField(null=True, blank=True, help_text="The first row's time, in its time base.")
    pose_last = models.FloatField(null=True, blank=True, help_text="The newest row's time, in its time base.")
    change_compared = models.PositiveIntegerField(default=0, help_text="Frames CHANGE compared while live.")
    change_by_telemetry = models.PositiveIntegerField(default=0, help_text=(
        "Of those, the frames whose reference frames were picked by the received telemetry (the rest visually)."))

    class Meta:
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        return f"live stream #{self.pk} of {self.mission}"

    @property
    def area(self):
        return self.mission.area

    @property
    def media_dir(self) -> str:
        """The recording's segments, samples and newest frame, relative to MEDIA_ROOT."""
        return f"live/{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES


class LivePose(models.Model):
    """One telemetry row received for a live stream; `at` is in the stream's `pose_clock`; a value the row did
    not give is null."""

    stream = models.ForeignKey(LiveStream, on_delete=models.CASCADE, related_name="poses")
    at = models.FloatField()
    latitude = models.FloatField()
    longitude = models.FloatField()
    rel_alt = models.FloatField(null=True, blank=True)
    abs_alt = models.FloatField(null=True, blank=True)
    yaw = models.FloatField(null=True, blank=True)
    pitch = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
