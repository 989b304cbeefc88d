"""The live pipeline: a mission's stream read, recorded, scored and alerted on while the drone flies.

`detection.live` does the reading (a thread keeping the newest frames), the recording (MPEG-TS segments, no
re-encode), the frame-by-frame CAE scoring and the CHANGE comparisons (in their own thread, on the newest frame,
about one a second: see detection.live.change); this module ties them to rows: the LiveStream's state, an Event
per alert as it opens in the ScoreRun of the detector that raised it (its level from `level_of`), the feed
(webapp.live.feed) that pages and the API listen to, and `live/<id>/latest.jpg`, the newest frame. Scores are appended to `live/<id>/` as they are made, so a
run that the sweep restarts after its worker died continues the recording in a new segment and keeps every
score. When the stream ends (or a user stops it) the segments are joined into the mission's Video, which is
ingested like an upload (an ingest job run here, in this process), and the live scores become its ScoreRun:
only frames the reader dropped are scored now. The area's other detectors score the recording afterwards,
CHANGE included: its batch pass matches the whole flight, and its events replace the live alerts' (reviews kept).

Telemetry a ground station posts while the drone flies (webapp.live.telemetry) is read every second: CHANGE
matches a frame the received poses cover by pose, any other visually, and the counts of each are published.
The frames' decode times are kept as the stream's `clock`, which turns Unix-time rows into video seconds. At
the end the received poses become the recording's telemetry sidecar, read by its ingest like an upload's, so
the batch CHANGE pass and the map use them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.catalog.models import Video
from webapp.detectors.levels import level_colour, level_of, level_text
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.live.feed import Publisher
from webapp.live.models import LiveStream
from webapp.live.telemetry import PoseFeed, advance_clock
from webapp.reports.strip import review_url_at
from workers.claim import run_job, worker_label
from workers.frames import detector_frames
from workers.model_cache import cached_detector
from workers.progress import JobCancelled, JobError, JobReporter
from workers.scoring import at_threshold, store_scores

ROW_EVERY = 1.0  # seconds between writes of the stream's row (state, recorded time, gaps) and the heartbeat
STOP_GRACE = 15.0  # seconds a stopped reader may take to let go of its connection before the run ends anyway


def _stream_of(job: Job) -> LiveStream:
    """The mission's newest live stream (a mission runs one at a time)."""
    stream = LiveStream.objects.select_related("mission__area").filter(mission=job.mission_id).first()
    if stream is None:
        raise JobError("this mission has no live stream")
    return stream


def live_detector(stream: LiveStream, kind: str = Detector.Kind.CAE) -> Detector | None:
    """The area's active ready detector of `kind` (the newest) that scores the stream; None: it does not."""
    return (Detector.objects.filter(area=stream.mission.area, kind=kind, status=Detector.Status.READY,
                                    is_active=True).order_by("-pk").first())


@dataclass
class AlertSource:
    """A detector raising alerts on the stream: its row, the ScoreRun its events go in, the threshold its levels
    are relative to, and the event of its open alert."""

    detector: Detector
    run: ScoreRun
    threshold: float
    event_id: int | None = None


def alert_source(detector: Detector, video: Video, threshold: float) -> AlertSource:
    run, _ = ScoreRun.objects.get_or_create(detector=detector, video=video)
    ScoreRun.objects.filter(pk=run.pk).update(threshold=threshold)
    run.threshold = threshold
    return AlertSource(detector=detector, run=run, threshold=threshold)


def recording_video(stream: LiveStream) -> Video:
    """The mission's Video the recording becomes, made when the stream starts (status `recording`)."""
    if stream.video_id and Video.objects.filter(pk=stream.video_id).exists():
        return Video.objects.get(pk=stream.video_id)
    name = f"live {timezone.localtime(stream.started):%Y-%m-%d %H%M} #{stream.pk}.mp4"
    video = Video.objects.create(mission=stream.mission, original_name=name, status=Video.Status.RECORDING,
                                 sample_fps=settings.SAMPLE_FPS)
    LiveStream.objects.filter(pk=stream.pk).update(video=video)
    stream.video = video
    return video


def reader_settings(stream: LiveStream, full_width: int | None = None):
    from detection.live.reader import LiveSettings

    return LiveSettings(fps=settings.SAMPLE_FPS, size=(settings.SAMPLE_SIZE, settings.SAMPLE_SIZE),
                        listen=stream.listen, connect_timeout=settings.LIVE_CONNECT_TIMEOUT,
                        end_after=settings.LIVE_END_AFTER, full_width=full_width)


class LiveRun:
    """One run of a live job: the reader, the scorer, the alert rows and the feed."""

    def __init__(self, job: Job, reporter: JobReporter):
        from detection.live.reader import LiveReader
        from detection.live.recorder import SegmentRecorder

        self.job, self.reporter = job, reporter
        self.stream = _stream_of(job)
        self.folder = Path(settings.MEDIA_ROOT) / self.stream.media_dir
        self.video = recording_video(self.stream)
        self.detector = live_detector(self.stream)
        self.scorer, self.cae = self._scorer()
        self.change, self.change_source = self._change()
        self.recorder = SegmentRecorder(self.folder / "segments", segment_seconds=settings.LIVE_SEGMENT_SECONDS)
        full_width = self.change.scorer.detector.index.analysis_size[0] if self.change is not None else None
        self.reader = LiveReader(self.stream.url, reader_settings(self.stream, full_width), recorder=self.recorder,
                                 start_at=self.recorder.recorded_until, origin=self.stream.origin,
                                 last_sample=self.samples.last_time if self.samples else None)
        self.previous_gaps = list(self.stream.gaps)  # an earlier run's, kept when this run resumes
        if self.recorder.segments:  # resumed after a lost worker: the time until the stream is back is a gap
            from detection.live.reader import Gap

            self.reader.gaps.append(Gap(at=max(0.0, self.recorder.recorded_until - (self.stream.origin or 0.0)),
                                        began=time.time(), reason="the worker stopped; another run resumed"))
        self.publisher = Publisher(self.stream.pk)
        self.clock = [list(entry) for entry in self.stream.clock]  # an earlier run's, continued
        self.clock_version = 0
        self.pose_feed = PoseFeed(self.stream.pk)
        self.poses_seen: tuple[int, int] | None = None  # (last row id, clock version) the CHANGE scorer has
        self.pose_count = self.stream.pose_count
        self.earlier_counts = (self.stream.change_compared, self.stream.change_by_telemetry)  # a resumed run's
        self.scored = 0
        self.decoded_at: dict[float, float] = {}  # frames offered to CHANGE: stream time -> when decoded
        self.change_error = ""
        self.stop_asked: float | None = None  # time.monotonic() when a user asked the stream to stop

    def _scorer(self):
        from detection.live.samples import SampleLog
        from detection.live.scoring import LiveScorer

        self.samples = None
        if self.detector is None:
            return None, None
        model = cached_detector(Path(settings.MEDIA_ROOT) / self.detector.artifact)
        self.samples = SampleLog(self.folder / "scores")
        scorer = LiveScorer(model, threshold=self.detector.threshold, times=self.samples.times, raw=self.samples.raw,
                            heatmaps=self.samples.heatmaps)
        LiveStream.objects.filter(pk=self.stream.pk).update(detector=self.detector)
        return scorer, alert_source(self.detector, self.video, scorer.threshold)

    def _change(self):
        """The area's CHANGE detector comparing the newest frames in its own thread, or (None, None)."""
        from detection.live.change import ChangeThread, LiveChangeScorer

        detector = live_detector(self.stream, Detector.Kind.CHANGE)
        if detector is None:
            return None, None
        model = cached_detector(Path(settings.MEDIA_ROOT) / detector.artifact)
        thread = ChangeThread(LiveChangeScorer(model, threshold=detector.threshold))
        return thread, alert_source(detector, self.video, thread.scorer.threshold)

    # --- while it flies -------------------------------------------------------------------------------------

    def follow(self) -> None:
        """Take the newest frames until the stream ends or a stop is asked for."""
        if self.change is not None:
            self.change.start()  # it warms up while the reader connects
        self.reader.start()
        last_row = 0.0
        while not self.reader.done:
            frame = self.reader.next_frame(0.2)
            if frame is not None:
                self._take(frame)
            self._take_comparisons()
            if time.monotonic() - last_row >= ROW_EVERY:
                last_row = time.monotonic()
                self._refresh_poses()
                self._write_row()
            if self.stop_asked is not None and time.monotonic() - self.stop_asked > STOP_GRACE:
                break  # the reader is stuck in a blocking open (a protocol that ignores FFmpeg's timeout)

    def _take(self, frame) -> None:
        self._write_latest(frame)
        self.clock_version += advance_clock(self.clock, frame.time, frame.decoded_at)
        message = {"type": "score", "time": round(frame.time, 3)}
        if self.scorer is not None:
            result = self.scorer.score(frame.time, frame.image)
            self.samples.append(result.time, result.raw, result.score, self.scorer.heatmaps[-1])
            self.scored += 1
            message.update(score=round(result.score, 4), threshold=self.scorer.threshold)
            if result.changed is not None:
                self._alert(self.cae, result.changed, opened=result.opened, decoded_at=frame.decoded_at)
        self.publisher.publish(message)
        if self.change is not None and frame.full is not None:
            self.decoded_at[frame.time] = frame.decoded_at
            self.change.offer(frame.time, frame.full)

    def _take_comparisons(self) -> None:
        """Alerts and `change` messages from the CHANGE comparisons finished since the last call."""
        if self.change is None:
            return
        for result in self.change.take():
            decoded_at = self.decoded_at.get(result.time, time.time())
            self.decoded_at = {t: at for t, at in self.decoded_at.items() if t > result.time}
            self.publisher.publish({"type": "change", "time": round(result.time, 3), "score": round(result.score, 4),
                                    "threshold": self.change_source.threshold, "status": result.status,
                                    "seconds": round(result.seconds, 2),
                                    "matched": "telemetry" if result.by_pose else "visual"})
            if result.changed is not None:
                self._alert(self.change_source, result.changed, opened=result.opened, decoded_at=decoded_at)
        if self.change.error and not self.change_error:
            self.change_error = self.change.error
            self.publisher.publish({"type": "state", "change_error": self.change_error})

    def _refresh_poses(self) -> None:
        """Give the CHANGE scorer the poses received so far, when rows arrived or the clock moved since."""
        if self.change is None:
            return
        self.pose_feed.poll()
        seen = (self.pose_feed.after, self.clock_version)
        if seen != self.poses_seen:
            self.poses_seen = seen
            self.change.scorer.set_poses(self.pose_feed.table(self.clock))

    def _write_latest(self, frame) -> None:
        if frame.display is None:
            return
        from PIL import Image

        from detection.atomic_files import replacing

        with replacing(self.folder / "latest.jpg") as staging:
            Image.fromarray(frame.display).save(staging, format="JPEG", quality=80)

    def _alert(self, source: AlertSource, alert, *, opened: bool, decoded_at: float) -> None:
        level = level_of(source.detector, alert.peak_score, source.threshold)
        fields = dict(start=alert.start, end=alert.end, peak_time=alert.peak_time, peak_score=alert.peak_score,
                      level=level, peak_x=alert.peak_x, peak_y=alert.peak_y)
        if opened or source.event_id is None:
            event = Event.objects.create(score_run=source.run, **fields)
            source.event_id = event.pk
            LiveStream.objects.filter(pk=self.stream.pk).update(alerts=self.stream_alerts() + 1)
        else:
            Event.objects.filter(pk=source.event_id).update(**fields)
        message = {"type": "alert", "event": source.event_id, "state": "open" if alert.open else "closed",
                   "detector": source.detector.kind.upper(), "detector_name": source.detector.name,
                   "start": round(alert.start, 2), "end": round(alert.end, 2),
                   "peak_time": round(alert.peak_time, 2), "peak_score": round(alert.peak_score, 4),
                   "level": None if level is None else round(level, 2), "level_text": level_text(level),
                   "level_colour": level_colour(level),
                   "url": review_url_at(self.video.pk, alert.peak_time), "decoded_at": decoded_at,
                   "sent_at": time.time()}
        self.publisher.publish(message)
        if not alert.open:
            source.event_id = None

    def stream_alerts(self) -> int:
        return LiveStream.objects.filter(pk=self.stream.pk).values_list("alerts", flat=True).first() or 0

    def _write_row(self) -> None:
        reader = self.reader
        if reader.gaps and reader.gaps[-1].ended is None and (reader.connections or self.recorder.segments):
            state = LiveStream.State.RECONNECTING
        else:
            state = LiveStream.State.LIVE if reader.connections else LiveStream.State.WAITING
        gaps = self.previous_gaps + [{"at": round(g.at, 2), "seconds": round(g.seconds, 1), "reason": g.reason}
                                     for g in reader.gaps]
        fields = {"state": state, "recorded_seconds": max(0.0, reader.newest_time), "gaps": gaps,
                  "dropped_frames": reader.dropped, "origin": reader.origin, "clock": self.clock,
                  **self._change_counts()}
        LiveStream.objects.filter(pk=self.stream.pk).update(**fields)
        minutes, seconds = divmod(int(max(0.0, reader.newest_time)), 60)
        counts = self._change_counts()
        compared = (f", {counts['change_compared']} compared with the reference flights "
                    f"({counts['change_by_telemetry']} matched by telemetry, {self.change.skipped} skipped)"
                    if self.change is not None else "")
        self.reporter.progress(0.0, f"{LiveStream.State(state).label}: {minutes}:{seconds:02d} recorded, "
                               f"{self.scored} frames scored{compared}, {self.pose_count} poses received, "
                               f"lag {reader.lag:.1f} s", force=True)
        stop_requested, self.pose_count = LiveStream.objects.filter(pk=self.stream.pk).values_list(
            "stop_requested", "pose_count").first() or (False, self.pose_count)
        if self.stop_asked is None and stop_requested:
            self.stop_asked = time.monotonic()
            reader.stop()
        self.publisher.publish({"type": "state", "state": state, "recorded": round(reader.newest_time, 1),
                                "gaps": gaps, "telemetry": {"poses": self.pose_count, **self._change_counts()}})

    def _change_counts(self) -> dict:
        if self.change is None:
            return {}
        compared, by_telemetry = self.earlier_counts
        return {"change_compared": compared + self.change.compared,
                "change_by_telemetry": by_telemetry + self.change.by_telemetry}

    # --- after the flight -----------------------------------------------------------------------------------

    def finish(self) -> dict:
        """Join the segments into the mission's Video, ingest it, and store the live scores as its ScoreRun."""
        from detection.errors import VideoError
        from detection.live.recorder import assemble

        if self.scorer is not None and (closed := self.scorer.close()) is not None:
            self._alert(self.cae, closed, opened=False, decoded_at=time.time())
        if self.change is not None:
            self.change.stop()  # after the frame it holds: the flight's last moments are compared too
            self._take_comparisons()
            if (closed := self.change.scorer.close()) is not None:
                self._alert(self.change_source, closed, opened=False, decoded_at=time.time())
        self._write_row()
        error = self.reader.error
        LiveStream.objects.filter(pk=self.stream.pk).update(state=LiveStream.State.FINISHING, error=error)
        self.publisher.publish({"type": "state", "state": LiveStream.State.FINISHING})
        original = f"{self.video.media_dir}/original.mp4"
        try:
            duration = assemble(self.folder / "segments", Path(settings.MEDIA_ROOT) / original)
        except VideoError as exc:
            self._end(LiveStream.State.FAILED, error or str(exc))
            Video.objects.filter(pk=self.video.pk).update(status=Video.Status.FAILED, error=error or str(exc))
            raise JobError(error or str(exc)) from None
        Video.objects.filter(pk=self.video.pk).update(file=original, status=Video.Status.UPLOADED)
        telemetry = self._place_telemetry()
        ingest = self._ingest()
        rescored = self._store_scores() if self.scorer is not None else 0
        self._end(LiveStream.State.ENDED, error)
        return {"video": self.video.pk, "recorded_seconds": round(duration, 2), "ingest_job": ingest,
                "scored_live": self.scored, "scored_after": rescored, "gaps": len(self.reader.gaps),
                "dropped_frames": self.reader.dropped, "error": error, **telemetry, **self._change_facts()}

    def _change_facts(self) -> dict:
        if self.change is None:
            return {}
        return {"change_skipped": self.change.skipped, "change_error": self.change_error, **self._change_counts()}

    def _place_telemetry(self) -> dict:
        """The poses received (none come once the stream is finishing) as the recording's sidecar, which its
        ingest reads into the video's pose table."""
        from webapp.catalog.telemetry import place_sidecar
        from webapp.live.telemetry import write_recording_sidecar

        stream = LiveStream.objects.get(pk=self.stream.pk)
        try:
            sidecar = write_recording_sidecar(stream, self.folder)
            if sidecar is not None:
                place_sidecar(self.video, sidecar, os.replace)
        except (OSError, ValueError) as exc:  # the recording matters more: it is ingested without telemetry
            return {"telemetry_poses": stream.pose_count, "telemetry_sidecar": False,
                    "telemetry_error": f"the received poses could not be written as a sidecar: {exc}"}
        return {"telemetry_poses": stream.pose_count, "telemetry_sidecar": sidecar is not None}

    def _ingest(self) -> int:
        from workers.ingest import run_ingest

        skip = [self.detector.pk] if self.detector is not None else []
        ingest = Job.objects.create(kind=Job.Kind.INGEST, video=self.video, created_by=self.job.created_by,
                                    params={"skip_detectors": skip, "size": settings.SAMPLE_SIZE,
                                            "fps": settings.SAMPLE_FPS})
        self.reporter.stage("Ingesting the recording")
        outcome = run_job(ingest.pk, run_ingest, worker=f"{worker_label()} (live job {self.job.pk})")
        if outcome != "succeeded":
            ingest.refresh_from_db()
            raise JobError(f"the recording could not be ingested: {ingest.error or outcome}")
        return ingest.pk

    def _store_scores(self) -> int:
        self.reporter.stage("Storing the live scores")
        video = Video.objects.get(pk=self.video.pk)
        frames = detector_frames(video, self.detector.kind)
        scores, rescored = self.scorer.final_scores(frames.frames, frames.times)
        scores = at_threshold(self.scorer.detector, scores, self.detector.threshold)
        store_scores(self.detector, video, self.scorer.detector, frames, scores)
        return rescored

    def _end(self, state: str, error: str) -> None:
        LiveStream.objects.filter(pk=self.stream.pk).update(state=state, error=error, ended=timezone.now())
        self.publisher.publish({"type": "state", "state": state, "error": error})
        self.publisher.close()

    def abort(self) -> None:
        """Stop reading (this run lost the job, or was cancelled); the segments stay for a resumed run."""
        self.reader.stop()
        if self.change is not None:
            self.change.stop(finish=False)
        if self.reader.is_alive():
            self.reader.join(timeout=10)


def run_live(job: Job, reporter: JobReporter) -> dict:
    live = LiveRun(job, reporter)
    with transaction.atomic():
        LiveStream.objects.filter(pk=live.stream.pk).update(error="", ended=None, state=LiveStream.State.WAITING)
    try:
        live.follow()
    except JobCancelled:
        live.abort()
        live._end(LiveStream.State.FAILED, "the live job was cancelled; the segments recorded so far are kept")
        raise
    except BaseException:
        live.abort()
        raise
    if live.reader.error and not live.recorder.segments:
        live._end(LiveStream.State.FAILED, live.reader.error)
        Video.objects.filter(pk=live.video.pk).update(status=Video.Status.FAILED, error=live.reader.error)
        raise JobError(live.reader.error)
    return live.finish()
