"""Recording a live feed: its video packets copied (no re-encode) into MPEG-TS segments, then joined into one MP4.

Timestamps are recording time: the reader shifts each connection's packets so that they continue where the
previous connection stopped, so the segments play one after the other and the joined file's times are the
times the live scores were computed at. A segment is written as `seg-NNNNNN.ts.part` and renamed when closed;
`segments.json` lists the closed ones with their time spans. A run killed mid-segment leaves a `.part` file;
`SegmentRecorder` salvages it on start (its packets that still demux are copied into a proper segment), so no
segment is lost and none is left half-written where the assembly looks.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av

from detection.atomic_files import replacing, write_text
from detection.errors import VideoError

MANIFEST = "segments.json"
TIME_BASE = Fraction(1, 90000)


@dataclass(frozen=True)
class Segment:
    name: str
    start: float  # recording seconds of its first packet
    end: float  # recording seconds after its last packet
    packets: int


def read_segments(folder: Path) -> list[Segment]:
    """The closed segments of a recording folder, in order ([] when none)."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return []
    return [Segment(**row) for row in json.loads(path.read_text())["segments"]]


def _write_manifest(folder: Path, segments: list[Segment]) -> None:
    write_text(Path(folder) / MANIFEST, json.dumps({"segments": [asdict(s) for s in segments]}, indent=1))


class SegmentRecorder:
    """Write packets of one video stream into segments of about `segment_seconds`, cut at keyframes.

    `begin(stream)` starts a segment for a (new) connection's stream; `write(packet, seconds)` copies a packet
    whose presentation time in recording seconds is `seconds`; `end()` closes the open segment.
    """

    def __init__(self, folder: Path, *, segment_seconds: float = 10.0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_seconds = segment_seconds
        self.segments = read_segments(self.folder)
        for leftover in sorted(self.folder.glob("seg-*.ts.part")):
            self._salvage(leftover)
        self._template: av.video.stream.VideoStream | None = None
        self._output = None
        self._stream = None
        self._open: dict | None = None
        self._last_dts: int | None = None  # of the open segment, in TIME_BASE

    @property
    def recorded_until(self) -> float:
        """Recording seconds after the last closed segment (where a resumed recording continues)."""
        return self.segments[-1].end if self.segments else 0.0

    def _next_name(self) -> str:
        used = [int(s.name[4:10]) for s in self.segments]
        return f"seg-{(max(used) + 1 if used else 1):06d}.ts"

    def begin(self, stream: av.video.stream.VideoStream) -> None:
        self.end()
        self._template = stream

    def _start_segment(self, seconds: float) -> None:
        name = self._next_name()
        part = self.folder / f"{name}.part"
        self._output = av.open(str(part), "w", format="mpegts")
        self._stream = self._output.add_stream_from_template(self._template)
        self._stream.time_base = TIME_BASE
        self._open = {"name": name, "start": seconds, "end": seconds, "packets": 0}
        self._last_dts = None

    def write(self, packet: av.Packet, seconds: float, decode_seconds: float, duration: float) -> None:
        """Copy `packet` with its presentation at `seconds` and decoding at `decode_seconds` (recording time)."""
        if self._template is None:
            raise RuntimeError("begin(stream) before write()")
        if self._open is None:
            if not packet.is_keyframe:
                return  # a segment starts at a keyframe, so that each one decodes on its own
            self._start_segment(seconds)
        elif packet.is_keyframe and seconds - self._open["start"] >= self.segment_seconds:
            self.end()
            self._start_segment(seconds)
        packet.stream = self._stream
        packet.time_base = TIME_BASE
        # MPEG-TS refuses a decoding time that does not increase; RTP feeds carry none (the demuxer guesses,
        # sometimes twice the same): nudge it a tick on, and the presentation with it if it would come first.
        dts = round(min(decode_seconds, seconds) / TIME_BASE)
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1
        packet.dts, packet.pts = dts, max(dts, round(seconds / TIME_BASE))
        self._last_dts = dts
        packet.duration = round(duration / TIME_BASE) if duration > 0 else 0
        self._output.mux(packet)
        self._open["packets"] += 1
        self._open["end"] = max(self._open["end"], seconds + max(duration, 0.0))

    def end(self) -> None:
        """Close the open segment (if any) and list it in the manifest."""
        if self._open is None:
            return
        self._output.close()
        part = self.folder / f"{self._open['name']}.part"
        part.replace(self.folder / self._open["name"])
        self.segments.append(Segment(**self._open))
        _write_manifest(self.folder, self.segments)
        self._output = self._stream = self._open = None

    def _salvage(self, part: Path) -> None:
        """Copy what still demuxes of a killed run's unfinished segment into a proper one; drop it if nothing."""
        name = part.name.removesuffix(".part")
        target = self.folder / name
        first = last = None
        packets = 0
        try:
            with av.open(str(part)) as source, replacing(target) as staging:
                with av.open(str(staging), "w", format="mpegts") as output:
                    stream_in = source.streams.video[0]
                    stream_out = output.add_stream_from_template(stream_in)
                    for packet in source.demux(stream_in):
                        if packet.dts is None:
                            continue
                        seconds = float(packet.pts * packet.time_base)
                        first = seconds if first is None else min(first, seconds)
                        step = float((packet.duration or 0) * packet.time_base)
                        last = max(last or seconds, seconds + step)
                        packet.stream = stream_out
                        output.mux(packet)
                        packets += 1
                if not packets:
                    raise VideoError("no packet")
        except (av.FFmpegError, VideoError, IndexError):
            target.unlink(missing_ok=True)
            part.unlink(missing_ok=True)
            return
        part.unlink()
        self.segments.append(Segment(name=name, start=first, end=last, packets=packets))
        self.segments.sort(key=lambda s: s.name)
        _write_manifest(self.folder, self.segments)


def assemble(folder: Path, target: Path) -> float:
    """Join the closed segments of `folder` into one MP4 at `target` (copying packets); returns its duration.

    Raises VideoError when nothing was recorded.
    """
    segments = read_segments(folder)
    if not segments:
        raise VideoError("nothing was recorded: the stream sent no picture")
    end = 0.0
    with replacing(Path(target)) as staging:
        with av.open(str(staging), "w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream_out = None
            last_dts = None
            for segment in segments:
                with av.open(str(Path(folder) / segment.name)) as source:
                    stream_in = source.streams.video[0]
                    if stream_out is None:
                        stream_out = output.add_stream_from_template(stream_in)
                    for packet in source.demux(stream_in):
                        if packet.dts is None or (last_dts is not None and packet.dts <= last_dts):
                            continue  # flush packets; a packet repeated across a salvaged boundary
                        last_dts = packet.dts
                        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                        packet.stream = stream_out
                        output.mux(packet)
    return end
