"""The live telemetry feed: a ground station posts the drone's poses with a token while the stream runs; rows
checked against the batch and the rows before it (each refusal naming its row), Unix times turned into video
seconds with the frames' decode times, and nothing taken once the stream ends."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.webapp.catalog_actors import *  # noqa: F403
from webapp.catalog.models import Video
from webapp.live.models import LivePose, LiveStream
from webapp.live.telemetry import PoseFeed, pose_table, recording_poses, video_times, write_recording_sidecar

pytestmark = pytest.mark.django_db

T0 = 1_780_000_000.0  # Unix seconds of the recording's first frame in these tests (2026-05-28)


@pytest.fixture
def stream(mission):
    video = Video.objects.create(mission=mission, original_name="live.mp4", status=Video.Status.RECORDING)
    return LiveStream.objects.create(mission=mission, url="tcp://10.0.0.5:9000", video=video,
                                     state=LiveStream.State.LIVE)


def token_client(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


def url(stream) -> str:
    return f"/api/live/{stream.pk}/telemetry/"


def post(client, stream, rows):
    return client.post(url(stream), {"poses": rows}, content_type="application/json")


def row(at: float, key: str = "time", **values) -> dict:
    return {key: at, "latitude": 59.3 + at * 1e-5 if key == "time" else 59.3, "longitude": 18.9, "rel_alt": 60.0,
            "abs_alt": 62.5, "yaw": 90.0, "pitch": -90.0, **values}


def test_an_analyst_posts_batches_and_a_viewer_reads_what_was_received(analyst, viewer, stream):
    response = post(token_client(analyst), stream, [row(0.0), row(0.5), row(1.0, yaw=None, pitch=None)])
    assert response.status_code == 201, response.content
    assert response.json() == {"received": 3, "stream": stream.pk, "state": "live", "time_base": "time", "count": 3,
                               "first": 0.0, "last": 1.0, "first_video_time": 0.0, "last_video_time": 1.0,
                               "change_compared": 0, "change_by_telemetry": 0}
    assert post(token_client(analyst), stream, [row(1.5), row(2.0)]).status_code == 201
    body = token_client(viewer).get(url(stream)).json()
    assert (body["count"], body["first"], body["last"]) == (5, 0.0, 2.0)
    stored = LivePose.objects.filter(stream=stream)
    assert [p.at for p in stored] == [0.0, 0.5, 1.0, 1.5, 2.0] and stored[2].yaw is None and stored[1].yaw == 90.0


def test_roles_and_tokens_decide_who_may_post(viewer, outsider, stream):
    assert Client().post(url(stream), {"poses": [row(0.0)]}, content_type="application/json").status_code == 401
    assert post(token_client(viewer), stream, [row(0.0)]).status_code == 403
    assert post(token_client(outsider), stream, [row(0.0)]).status_code in (403, 404)
    assert token_client(outsider).get(url(stream)).status_code in (403, 404)
    assert not LivePose.objects.exists()


@pytest.mark.parametrize(("rows", "detail"), [
    ([row(0.0), {"time": 0.5, "longitude": 18.9}], "row 2: latitude is missing"),
    ([row(0.0), row(0.5, latitude=91.0)], "row 2: latitude 91 is out of range (-90 to 90)"),
    ([row(0.0, longitude=-181)], "row 1: longitude -181 is out of range (-180 to 180)"),
    ([row(0.0, rel_alt=25000)], "row 1: rel_alt 25000 is out of range (-1000 to 20000)"),
    ([row(0.0, pitch=120)], "row 1: pitch 120 is out of range (-90 to 90)"),
    ([row(0.0, yaw="east")], "row 1: yaw 'east' is not a number"),
    ([row(0.0, latitude=True)], "row 1: latitude True is not a number"),
    ([row(0.0), row(1.0), row(1.0)], "row 3: time 1 does not come after 1 (row 2); times must increase"),
    ([row(2.0), row(1.0)], "row 2: time 1 does not come after 2 (row 1); times must increase"),
    ([row(-0.5)], "row 1: time -0.5 is not video seconds (0 to 86400)"),
    ([row(T0)], "row 1: time 1.78e+09 is not video seconds (0 to 86400); Unix seconds go in timestamp"),
    ([row(12.5, key="timestamp")], "row 1: timestamp 12.5 is not Unix seconds (it is before 2000); video seconds "
                                   "go in time"),
    ([{**row(0.0), "timestamp": T0}], "row 1: give either time (video seconds since the recording's first frame) "
                                      "or timestamp (Unix seconds), not both"),
    ([row(0.0), row(T0, key="timestamp")], "row 2: gives timestamp, the rows before it time: one time base per "
                                           "stream"),
    (["59.3,18.9"], "row 1: expected an object with time or timestamp, latitude, longitude, and optionally "
                    "rel_alt, abs_alt, yaw, pitch"),
])
def test_a_bad_row_is_refused_with_its_number_and_nothing_of_the_batch_is_stored(analyst, stream, rows, detail):
    response = post(token_client(analyst), stream, rows)
    assert response.status_code == 422, response.content
    assert response.json()["detail"] == detail and response.json()["row"] == int(detail.split()[1].rstrip(":"))
    assert not LivePose.objects.exists()
    stream.refresh_from_db()
    assert stream.pose_count == 0 and stream.pose_clock == ""


def test_a_batch_must_follow_the_rows_already_received_in_their_time_base(analyst, stream):
    client = token_client(analyst)
    assert post(client, stream, [row(0.0), row(1.0)]).status_code == 201
    again = post(client, stream, [row(1.0), row(2.0)])
    assert again.status_code == 422 and again.json() == {
        "row": 1, "detail": "row 1: time 1 does not come after 1, the newest row already received; times must "
                            "increase"}
    other = post(client, stream, [row(T0, key="timestamp")])
    assert other.status_code == 422 and other.json()["detail"] == (
        "row 1: gives timestamp, but this stream's telemetry is in time since its first rows: one time base per "
        "stream")
    for body in ({}, {"poses": []}, {"poses": {"time": 0}}, [row(3.0)]):
        refused = client.post(url(stream), body, content_type="application/json")
        assert refused.status_code == 422 and refused.json()["row"] is None
        assert refused.json()["detail"].startswith('send {"poses": [...]} with at least one row')
    assert LivePose.objects.count() == 2


@pytest.mark.parametrize("state", [LiveStream.State.FINISHING, LiveStream.State.ENDED, LiveStream.State.FAILED])
def test_a_stream_that_is_finishing_or_over_takes_no_more_telemetry(analyst, stream, state):
    LiveStream.objects.filter(pk=stream.pk).update(state=state)
    response = post(token_client(analyst), stream, [row(0.0)])
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"live stream #{stream.pk} ")
    assert "takes no more telemetry" in response.json()["detail"] and not LivePose.objects.exists()


def test_unix_timestamps_become_video_seconds_once_the_first_frame_is_known(analyst, viewer, stream):
    rows = [row(T0 + t, key="timestamp", latitude=59.3 + t * 1e-4) for t in (-3.0, -0.5, 0.5, 1.5, 2.5)]
    assert post(token_client(analyst), stream, rows).status_code == 201
    body = token_client(viewer).get(url(stream)).json()
    assert body["time_base"] == "timestamp" and body["first_video_time"] is None  # no frame decoded yet
    feed = PoseFeed(stream.pk)
    assert feed.poll() == 5 and feed.table([]) is None and feed.poll() == 0
    # The worker decoded video second 0 at T0 + 0.25 (a quarter of a second after the camera saw it).
    LiveStream.objects.filter(pk=stream.pk).update(clock=[[0.0, T0 + 0.25]])
    body = token_client(viewer).get(url(stream)).json()
    assert body["first_video_time"] == -3.25 and body["last_video_time"] == 2.25
    table = feed.table([[0.0, T0 + 0.25]])
    # Rows more than a second before the first frame are left out; the one at -0.75 s interpolates second 0.
    np.testing.assert_allclose(table.time, [-0.75, 0.25, 1.25, 2.25])
    np.testing.assert_allclose(table.latitude, [59.3 - 0.5e-4, 59.3 + 0.5e-4, 59.3 + 1.5e-4, 59.3 + 2.5e-4])
    assert recording_poses(table).time[0] == 0.0
    assert recording_poses(table).latitude[0] == pytest.approx(59.3 + 0.25e-4)  # 3/4 of the way from -0.75 s


def test_after_a_gap_unix_times_follow_the_video_and_rows_in_the_gap_are_left_out():
    # Video 0-10 s was decoded from T0; the link then dropped for 20 s of wall clock, and video second 10 was
    # decoded at T0 + 30.
    clock = [[0.0, T0], [10.0, T0 + 20.0]]
    at = T0 + np.array([5.0, 9.5, 15.0, 29.0, 30.0, 31.5])
    np.testing.assert_allclose(video_times("timestamp", at, clock), [5.0, 9.5, np.nan, np.nan, 10.0, 11.5])
    assert video_times("time", np.array([1.0, 2.0]), []).tolist() == [1.0, 2.0]
    assert video_times("timestamp", at, []) is None
    values = np.column_stack([at, np.full((6, 6), 1.0)])
    assert pose_table("timestamp", values, clock).time.tolist() == [5.0, 9.5, 10.0, 11.5]


def test_the_received_poses_are_written_as_a_sidecar_the_telemetry_readers_read(analyst, stream, tmp_path):
    from detection.telemetry import read_telemetry

    rows = [row(t, yaw=-170.0 + t) for t in (0.0, 0.5, 1.0)] + [row(1.5, rel_alt=None, yaw=None, pitch=None)]
    assert post(token_client(analyst), stream, rows).status_code == 201
    stream.refresh_from_db()
    poses = read_telemetry(write_recording_sidecar(stream, tmp_path))
    assert poses.time.tolist() == [0.0, 0.5, 1.0, 1.5]
    np.testing.assert_allclose(poses.latitude, [59.3, 59.300005, 59.30001, 59.300015], atol=1e-6)
    np.testing.assert_allclose(poses.yaw[:3], [-170.0, -169.5, -169.0])
    assert np.isnan(poses.rel_alt[3]) and np.isnan(poses.yaw[3]) and poses.abs_alt[3] == 62.5
