"""`Video.as_record`: the one conversion of a catalog video into detection's VideoRecord."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from detection.types import Interval
from tests.support.seed import make_detector, make_mission
from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.models import Event, ScoreRun

pytestmark = pytest.mark.django_db


def make_video(label: str, intervals=(), **fields) -> Video:
    mission = make_mission(name=f"Patrol {Video.objects.count()}")
    video = Video.objects.create(mission=mission, original_name="v.mp4", file="videos/1/v.mp4", label=label,
                                 **fields)
    for start, end, name in intervals:
        LabelInterval.objects.create(video=video, start=start, end=end, anomaly_class=name)
    return video


def review(video: Video, *events: tuple[float, float, str]) -> None:
    run = ScoreRun.objects.create(detector=make_detector(video.mission.area, "cae"), video=video)
    for start, end, state in events:
        Event.objects.create(score_run=run, start=start, end=end, peak_time=start, peak_score=1.0, review=state)


def test_a_labelled_anomalous_video_keeps_its_intervals_in_time_order():
    video = make_video(Video.Label.ANOMALOUS, [(8.0, 9.0, "person"), (2.0, 4.0, "boat")], split=Video.Split.VAL)
    record = video.as_record()
    assert record.label == "anomalous" and record.split == "val" and record.video_id == str(video.pk)
    assert record.intervals == (Interval(2.0, 4.0, "boat"), Interval(8.0, 9.0, "person"))
    assert record.path == Path(settings.MEDIA_ROOT) / "videos/1/v.mp4"


def test_confirmed_events_are_anomalous_intervals_and_dismissed_ones_change_nothing():
    video = make_video(Video.Label.ANOMALOUS, [(5.0, 6.0, "boat")])
    review(video, (1.0, 2.0, Event.Review.CONFIRMED), (3.0, 3.5, Event.Review.DISMISSED),
           (7.0, 7.5, Event.Review.UNREVIEWED), (5.5, 6.5, Event.Review.CONFIRMED))
    # the confirmed event over the labelled boat is that boat: the analyst's interval and class stand alone
    assert video.as_record().intervals == (Interval(1.0, 2.0, "confirmed event"), Interval(5.0, 6.0, "boat"))


def test_a_confirmed_event_makes_a_normal_or_unlabelled_video_anomalous():
    for label in (Video.Label.NORMAL, Video.Label.UNLABELLED):
        video = make_video(label)
        review(video, (1.0, 2.0, Event.Review.CONFIRMED))
        record = video.as_record()
        assert record.label == "anomalous" and record.intervals == (Interval(1.0, 2.0, "confirmed event"),)


def test_dismissed_events_leave_a_normal_video_normal_and_an_unlabelled_one_without_truth():
    normal, unlabelled = make_video(Video.Label.NORMAL), make_video(Video.Label.UNLABELLED)
    review(normal, (1.0, 2.0, Event.Review.DISMISSED))
    review(unlabelled, (1.0, 2.0, Event.Review.DISMISSED))
    assert (normal.as_record().label, normal.as_record().intervals) == ("normal", ())
    assert (unlabelled.as_record().label, unlabelled.as_record().intervals) == ("", ())


def test_a_normal_video_drops_intervals_left_from_an_earlier_label():
    assert make_video(Video.Label.NORMAL, [(1.0, 2.0, "boat")]).as_record().intervals == ()


def test_path_and_id_can_be_a_manifest_name():
    record = make_video(Video.Label.NORMAL).as_record(path=Path("calm.mp4"), video_id="calm.mp4")
    assert (record.path, record.video_id) == (Path("calm.mp4"), "calm.mp4")
