"""Telemetry sidecars: DJI .SRT written and read back, GPX and CSV readers, the pose table's interpolation and
files, and every malformed case named with its file and line."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from detection.errors import DetectionError, TelemetryError
from detection.telemetry import GeoOrigin, PoseTable, read_telemetry, write_srt

DJI_BLOCK = """{n}
00:00:{s:02d},000 --> 00:00:{s:02d},033
<font size="28">FrameCnt: {n}, DiffTime: 33ms
2026-06-01 10:00:00.000
[iso: 100] [shutter: 1/500.0] [fnum: 2.8] [ev: 0] [focal_len: 24.00] [latitude: {lat}] [longitude: 18.912345] [rel_alt: 60.000 abs_alt: 62.300] [gb_yaw: 91.2 gb_pitch: -90.0 gb_roll: 0.0] </font>
"""


def poses(count=5) -> PoseTable:
    time = np.arange(count) * 0.2
    return PoseTable(time, 59.3 + 1e-5 * np.arange(count), 18.9 - 2e-5 * np.arange(count), 60.0 + time,
                     62.3 + time, np.array([170.0, 179.0, -179.0, -170.0, 0.5])[:count], np.full(count, -90.0))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_srt_written_reads_back_to_the_written_precision(tmp_path):
    path = write_srt(tmp_path / "DJI_0001.SRT", poses(), datetime(2026, 6, 1, 10, 0, 0))
    text = path.read_text()
    assert text.startswith('1\n00:00:00,000 --> 00:00:00,200\n<font size="28">FrameCnt: 1, DiffTime: 200ms\n'
                           "2026-06-01 10:00:00.000\n")
    assert "[rel_alt: 60.000 abs_alt: 62.300] [gb_yaw: 170.0 gb_pitch: -90.0 gb_roll: 0.0]" in text
    assert "2026-06-01 10:00:00.800" in text  # the fifth frame's wall clock
    back = read_telemetry(path)
    want = poses()
    for name in ("time", "latitude", "longitude", "rel_alt", "abs_alt", "yaw", "pitch"):
        assert np.allclose(getattr(back, name), getattr(want, name), atol=1e-6 if "itude" in name else 1e-3), name


def test_srt_of_the_documented_dji_format_and_its_variants(tmp_path):
    documented = write(tmp_path, "a.SRT", DJI_BLOCK.format(n=1, s=0, lat="59.334567") + "\n"
                       + DJI_BLOCK.format(n=2, s=1, lat="59.334568"))
    table = read_telemetry(documented)
    assert table.time.tolist() == [0.0, 1.0] and table.latitude.tolist() == [59.334567, 59.334568]
    assert (table.rel_alt[0], table.abs_alt[0], table.yaw[0], table.pitch[0]) == (60.0, 62.3, 91.2, -90.0)
    # Mini-style: misspelt longitude, a lone altitude, no gimbal; times with a dot and CRLF line ends.
    mini = write(tmp_path, "b.srt", "1\r\n00:00:00.500 --> 00:00:00.533\r\n[latitude : 59.1] [longtitude : 18.2] "
                                    "[altitude: 30.5]\r\n\r\n")
    table = read_telemetry(mini)
    assert (table.time[0], table.longitude[0], table.rel_alt[0]) == (0.5, 18.2, 30.5)
    assert np.isnan(table.abs_alt[0]) and np.isnan(table.yaw[0])


def test_gpx_track_points_with_times_from_the_first(tmp_path):
    path = write(tmp_path, "track.gpx", """<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
  <trkpt lat="59.30" lon="18.90"><ele>62.5</ele><time>2026-06-01T10:00:00Z</time></trkpt>
  <trkpt lat="59.31" lon="18.91"><ele>63.0</ele><time>2026-06-01T10:00:02.5Z</time></trkpt>
</trkseg></trk></gpx>""")
    table = read_telemetry(path)
    assert table.time.tolist() == [0.0, 2.5] and table.latitude.tolist() == [59.30, 59.31]
    assert table.abs_alt.tolist() == [62.5, 63.0] and np.isnan(table.rel_alt).all() and np.isnan(table.yaw).all()


def test_csv_log_with_and_without_yaw(tmp_path):
    table = read_telemetry(write(tmp_path, "log.csv", "time,lat,lon,alt,yaw\n0,59.3,18.9,60,45\n0.5,59.31,18.91,61,\n"))
    assert table.time.tolist() == [0.0, 0.5] and table.rel_alt.tolist() == [60.0, 61.0]
    assert table.yaw[0] == 45.0 and np.isnan(table.yaw[1]) and np.isnan(table.abs_alt).all()
    table = read_telemetry(write(tmp_path, "plain.csv", "time,lat,lon,alt\n1,59.3,18.9,60\n"))
    assert len(table) == 1 and np.isnan(table.yaw[0])


BAD_FILES = [
    ("empty.SRT", "", 1, "no poses"),
    ("time.SRT", "1\n00:00:00,000 -> 00:00:00,033\n[latitude: 59.3] [longitude: 18.9]\n", 1, "time line"),
    ("number.SRT", DJI_BLOCK.format(n=1, s=0, lat="59.3") + "\n2\n00:00:01,000 --> 00:00:01,033\n"
                   "[latitude: 59.3x] [longitude: 18.9]\n", 9, "not a number"),
    ("noplace.SRT", DJI_BLOCK.format(n=1, s=0, lat="59.3") + "\n2\n00:00:01,000 --> 00:00:01,033\n[iso: 100]\n",
     8, "no [latitude"),
    ("backwards.SRT", DJI_BLOCK.format(n=1, s=2, lat="59.3") + "\n" + DJI_BLOCK.format(n=2, s=1, lat="59.3"),
     8, "does not come after"),
    ("globe.SRT", DJI_BLOCK.format(n=1, s=0, lat="99.5"), 2, "off the globe"),
    ("empty.gpx", "", 1, "XML"),
    ("broken.gpx", "<gpx>\n<trk><trkseg>\n<trkpt lat='1' lon='2'><time>2026-06-01T10:00:00Z</time></trkpt>\n"
                   "</trk>\n", 4, "XML"),
    ("nolat.gpx", "<gpx><trk><trkseg>\n<trkpt lon='2'><time>2026-06-01T10:00:00Z</time></trkpt>\n"
                  "</trkseg></trk></gpx>", 2, "lat and lon"),
    ("notime.gpx", "<gpx><trk><trkseg>\n<trkpt lat='1' lon='2'><time>2026-06-01T10:00:00Z</time></trkpt>\n"
                   "<trkpt lat='1' lon='2'><ele>3</ele></trkpt>\n</trkseg></trk></gpx>", 3, "without a <time>"),
    ("badtime.gpx", "<gpx><trk><trkseg>\n<trkpt lat='1' lon='2'>\n<time>yesterday</time></trkpt>\n"
                    "</trkseg></trk></gpx>", 3, "ISO 8601"),
    ("backwards.gpx", "<gpx><trk><trkseg>\n<trkpt lat='1' lon='2'><time>2026-06-01T10:00:05Z</time></trkpt>\n"
                      "<trkpt lat='1' lon='2'><time>2026-06-01T10:00:01Z</time></trkpt>\n</trkseg></trk></gpx>",
     3, "does not come after"),
    ("nopoints.gpx", "<gpx><trk><trkseg></trkseg></trk></gpx>", 1, "no poses"),
    ("empty.csv", "", 1, "empty file"),
    ("header.csv", "time,lat,lon\n0,1,2\n", 1, "missing column(s) alt"),
    ("number.csv", "time,lat,lon,alt\n0,59,18,60\n1,59,east,60\n", 3, "lon 'east' is not a number"),
    ("short.csv", "time,lat,lon,alt\n0,59,18,60\n\n1,59,18\n", 4, "3 values for 4 columns"),
    ("backwards.csv", "time,lat,lon,alt\n0,59,18,60\n1,59,18,60\n1,59,18,60\n", 4, "does not come after"),
    ("headeronly.csv", "time,lat,lon,alt\n", 1, "no poses"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_malformed_sidecar_names_its_first_bad_line(tmp_path, name, text, line, message):
    path = write(tmp_path, name, text)
    with pytest.raises(TelemetryError) as caught:
        read_telemetry(path)
    assert isinstance(caught.value, DetectionError)
    assert (caught.value.path, caught.value.line) == (path, line)
    assert str(caught.value).startswith(f"{name} line {line}: ") and message in str(caught.value)


def test_unknown_or_missing_files_are_telemetry_errors(tmp_path):
    with pytest.raises(TelemetryError, match=r"flight.kml: unknown telemetry format '.kml'"):
        read_telemetry(write(tmp_path, "flight.kml", "<kml/>"))
    with pytest.raises(TelemetryError, match="gone.SRT: file not found"):
        read_telemetry(tmp_path / "gone.SRT")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(TelemetryError, match="binary.csv: cannot read the file as text"):
        read_telemetry(tmp_path / "binary.csv")


def test_poses_between_samples_interpolate_and_yaw_takes_the_short_way_round():
    table = poses()
    middle = table.at([-1.0, 0.1, 0.3, 0.5, 9.0])
    assert middle.time.tolist() == [-1.0, 0.1, 0.3, 0.5, 9.0]
    assert middle.rel_alt.tolist() == pytest.approx([60.0, 60.1, 60.3, 60.5, 60.8])  # clamped at both ends
    assert middle.latitude[1] == pytest.approx(59.3 + 0.5e-5)
    # 179 -> -179 crosses north through 180, not through 0; -170 -> 0.5 is halfway -84.75.
    assert abs(abs(middle.yaw[2]) - 180.0) < 1e-6
    assert middle.yaw[3] == pytest.approx(-174.5, abs=1e-6)
    assert table.at(0.7).yaw[0] == pytest.approx(-84.75, abs=1e-6)
    assert table.at(0.4).yaw[0] == pytest.approx(-179.0)


def test_pose_tables_save_and_load_as_npz_and_json_with_nan_kept(tmp_path):
    table = PoseTable.from_columns([0.0, 1.0], [59.3, 59.4], [18.9, 19.0], rel_alt=[60.0, 61.0])
    for name in ("poses.npz", "poses.json"):
        back = read_telemetry(table.save(tmp_path / name))
        assert back.time.tolist() == [0.0, 1.0] and back.rel_alt.tolist() == [60.0, 61.0]
        assert np.isnan(back.yaw).all() and np.isnan(back.abs_alt).all()
    write(tmp_path, "other.json", '{"format": "something-else", "version": 1}')
    with pytest.raises(TelemetryError, match="other.json: not a saved pose table"):
        read_telemetry(tmp_path / "other.json")
    with pytest.raises(ValueError, match="strictly increasing"):
        PoseTable.from_columns([1.0, 1.0], [0.0, 0.0], [0.0, 0.0])


def test_geo_origin_round_trips_metres_and_a_degree_of_latitude_is_111_km():
    origin = GeoOrigin(59.42, 18.88)
    latitude, longitude = origin.to_latlon([0.0, 1000.0, -250.0], [0.0, -500.0, 111_195.0])
    assert (latitude[0], longitude[0]) == (59.42, 18.88)
    assert latitude[2] == pytest.approx(60.42, abs=1e-4)
    east, north = origin.to_metres(latitude, longitude)
    assert east == pytest.approx([0.0, 1000.0, -250.0]) and north == pytest.approx([0.0, -500.0, 111_195.0])
