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


def test_confirmed_events_are_anomalous_intervals_and_dismissed_ones_add_no_anomaly():
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


def test_dismissed_events_are_normal_intervals_and_leave_the_label_as_it_was():
    normal, unlabelled = make_video(Video.Label.NORMAL), make_video(Video.Label.UNLABELLED)
    review(normal, (1.0, 2.0, Event.Review.DISMISSED))
    review(unlabelled, (1.0, 2.0, Event.Review.DISMISSED), (4.0, 5.0, Event.Review.UNREVIEWED))
    assert (normal.as_record().label, normal.as_record().intervals) == ("normal", ())
    record = unlabelled.as_record()
    assert (record.label, record.intervals, record.normal_intervals) == ("", (), (Interval(1.0, 2.0),))


def test_a_dismissed_event_over_an_anomalous_interval_is_not_normal():
    video = make_video(Video.Label.ANOMALOUS, [(5.0, 6.0, "boat")])
    review(video, (5.5, 7.0, Event.Review.DISMISSED), (1.0, 2.0, Event.Review.CONFIRMED),
           (1.5, 1.8, Event.Review.DISMISSED), (8.0, 9.0, Event.Review.DISMISSED))
    record = video.as_record()
    assert record.intervals == (Interval(1.0, 2.0, "confirmed event"), Interval(5.0, 6.0, "boat"))
    assert record.normal_intervals == (Interval(8.0, 9.0),)


def test_a_confirmed_event_becomes_a_labelled_interval_with_its_class():
    video = make_video(Video.Label.UNLABELLED)
    run = ScoreRun.objects.create(detector=make_detector(video.mission.area, "cae"), video=video)
    Event.objects.create(score_run=run, start=3.0, end=4.5, peak_time=3.5, peak_score=2.0,
                         review=Event.Review.CONFIRMED, anomaly_class="person")
    record = video.as_record()
    assert (record.label, record.intervals) == ("anomalous", (Interval(3.0, 4.5, "person"),))


def test_a_normal_video_drops_intervals_left_from_an_earlier_label():
    assert make_video(Video.Label.NORMAL, [(1.0, 2.0, "boat")]).as_record().intervals == ()


def test_path_and_id_can_be_a_manifest_name():
    record = make_video(Video.Label.NORMAL).as_record(path=Path("calm.mp4"), video_id="calm.mp4")
    assert (record.path, record.video_id) == (Path("calm.mp4"), "calm.mp4")
