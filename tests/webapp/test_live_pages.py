"""The live page, its start and stop, its event stream and the API's alert feed (no worker: rows and the feed)."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token

from tests.webapp.catalog_actors import *  # noqa: F403
from tests.webapp.catalog_actors import login
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.live.feed import Publisher
from webapp.live.models import LiveStream


@pytest.fixture
def stream(mission):
    """A running stream with its recording Video and one alert."""
    video = Video.objects.create(mission=mission, original_name="live.mp4", status=Video.Status.RECORDING)
    detector = Detector.objects.create(area=mission.area, kind="cae", name="CAE", status="ready", threshold=2.0,
                                       validation_metrics={"val_normal_median": 0.0})
    live = LiveStream.objects.create(mission=mission, url="tcp://10.0.0.5:9000", video=video, detector=detector,
                                     state=LiveStream.State.LIVE)
    run = ScoreRun.objects.create(detector=detector, video=video, threshold=2.0)
    Event.objects.create(score_run=run, start=4.0, end=5.5, peak_time=4.5, peak_score=5.0, level=2.5)
    return live


def test_an_analyst_starts_a_stream_and_a_live_job_is_queued(analyst, mission):
    response = login(analyst).post(f"/missions/{mission.pk}/live/start", {"url": "rtsp://10.0.0.5:8554/drone"})
    assert response.status_code == 302 and response.url == f"/missions/{mission.pk}/live/"
    stream = LiveStream.objects.get(mission=mission)
    assert stream.url == "rtsp://10.0.0.5:8554/drone" and stream.state == LiveStream.State.WAITING
    job = Job.objects.get(kind=Job.Kind.LIVE, mission=mission)
    assert job.state == Job.State.QUEUED and job.created_by == analyst


def test_a_url_with_credentials_is_refused_and_never_stored_nor_shown(analyst, mission):
    response = login(analyst).post(f"/missions/{mission.pk}/live/start",
                                   {"url": "rtsp://pilot:hunter2@10.0.0.5:8554/drone"})
    assert response.status_code == 400
    assert "does not store stream passwords" in response.content.decode()
    assert "hunter2" not in response.content.decode()
    assert not LiveStream.objects.exists() and not Job.objects.filter(kind=Job.Kind.LIVE).exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "rtsp://", "ftp://host/x", "not a url"])
def test_urls_skerry_cannot_read_are_refused_clearly(analyst, mission, url):
    response = login(analyst).post(f"/missions/{mission.pk}/live/start", {"url": url})
    assert response.status_code == 400 and "a stream URL starts with" in response.content.decode()


def test_a_second_stream_while_one_runs_is_refused(analyst, mission, stream):
    response = login(analyst).post(f"/missions/{mission.pk}/live/start", {"url": "tcp://10.0.0.6:9000"})
    assert response.status_code == 400 and "already under way" in response.content.decode()


def test_roles_decide_who_starts_stops_and_watches(viewer, outsider, mission, stream):
    assert login(viewer).post(f"/missions/{mission.pk}/live/start", {"url": "tcp://10.0.0.6:9000"}).status_code == 403
    assert login(viewer).post(f"/live/{stream.pk}/stop").status_code == 403
    assert login(viewer).get(f"/missions/{mission.pk}/live/").status_code == 200
    assert login(outsider).get(f"/live/{stream.pk}/frame.jpg").status_code == 403
    stream.refresh_from_db()
    assert not stream.stop_requested


def test_the_page_lists_the_alerts_linking_to_the_review_of_that_moment(viewer, mission, stream):
    page = login(viewer).get(f"/missions/{mission.pk}/live/").content.decode()
    assert f'href="/videos/{stream.video_id}/review/?t=4.50"' in page and "2.5×" in page


def test_stop_asks_the_worker_to_end_the_stream(analyst, stream):
    assert login(analyst).post(f"/live/{stream.pk}/stop").status_code == 302
    stream.refresh_from_db()
    assert stream.stop_requested


def read_events(chunks, count: int) -> list[tuple[str, dict]]:
    """The next `count` named events of an event-stream response's iterated content."""
    events, buffer = [], ""
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":")
            if "event" in fields:
                events.append((fields["event"], json.loads(fields["data"])))
        if len(events) >= count:
            return events
    return events


def test_the_event_stream_sends_missed_alerts_then_what_the_worker_publishes(viewer, stream, settings, tmp_path):
    settings.MEDIA_ROOT, settings.REDIS_URL, settings.LIVE_EVENTS_SECONDS = tmp_path, "", 5
    response = login(viewer).get(f"/live/{stream.pk}/events")
    assert response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)
    (state, status), (alert, missed) = read_events(chunks, 2)  # subscribed to the feed before these were sent
    Publisher(stream.pk).publish({"type": "score", "time": 6.0, "score": 0.4, "threshold": 2.0})
    ((score, pushed),) = read_events(chunks, 1)
    assert (state, alert, score) == ("state", "alert", "score")
    assert status["state"] == "live" and missed["peak_time"] == 4.5 and missed["level"] == 2.5
    assert pushed == {"type": "score", "time": 6.0, "score": 0.4, "threshold": 2.0}


def test_a_reconnecting_listener_gets_only_the_alerts_after_its_last_one(viewer, stream, settings, tmp_path):
    settings.MEDIA_ROOT, settings.REDIS_URL, settings.LIVE_EVENTS_SECONDS = tmp_path, "", 1
    first = Event.objects.get()
    later = Event.objects.create(score_run=first.score_run, start=9.0, end=9.5, peak_time=9.2, peak_score=3.0)
    response = login(viewer).get(f"/live/{stream.pk}/events", headers={"Last-Event-ID": str(first.pk)})
    alerts = [data for name, data in read_events(iter(response.streaming_content), 3) if name == "alert"]
    assert [a["event"] for a in alerts] == [later.pk]


def test_the_api_gives_ground_stations_the_alert_feed_with_a_token(viewer, outsider, stream):
    token = Token.objects.create(user=viewer)
    client = login(viewer).__class__(headers={"Authorization": f"Token {token.key}"})
    body = client.get(f"/api/live/{stream.pk}/").json()
    assert body["stream"]["state"] == "live" and [a["peak_time"] for a in body["alerts"]] == [4.5]
    assert body["alerts"][0]["url"].endswith("?t=4.50")
    assert client.get(f"/api/live/{stream.pk}/", {"after": body["alerts"][0]["event"]}).json()["alerts"] == []
    assert client.get(f"/api/live/{stream.pk}/events", headers={"Accept": "text/event-stream"},
                      ).status_code == 200
    other = Token.objects.create(user=outsider)
    assert login(viewer).__class__(headers={"Authorization": f"Token {other.key}"}).get(
        f"/api/live/{stream.pk}/").status_code in (403, 404)


def test_with_redis_the_feed_is_pub_sub(settings):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("no Redis server on this machine")
    from webapp.live.feed import listen

    settings.REDIS_URL, settings.CELERY_KEY_PREFIX = url, "skerry-live-test:"
    messages = listen(41, seconds=5, tick=0.2)  # subscribed now
    Publisher(41).publish({"type": "alert", "event": 7})
    assert next(m for m in messages if m is not None) == {"type": "alert", "event": 7}
