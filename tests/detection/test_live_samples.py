"""The live sample log: what a killed worker wrote is read back whole, a half-written record is cut off."""

import numpy as np

from detection.live.samples import RECORD, SampleLog, read_scores


def test_samples_survive_a_restart_and_a_torn_last_record_is_dropped(tmp_path):
    log = SampleLog(tmp_path)
    for index in range(3):
        log.append(index * 0.5, float(index), float(index) / 10, np.full((4, 5), index, dtype=np.float16))
    with (tmp_path / "heatmaps.bin").open("ab") as maps:  # the kill came while the 4th map was being written
        maps.write(b"\x00" * 7)
    with (tmp_path / "samples.bin").open("ab") as samples:
        samples.write(b"\x01" * (RECORD.itemsize // 2))
    times, scores = read_scores(tmp_path)
    assert list(times) == [0.0, 0.5, 1.0] and np.allclose(scores, [0.0, 0.1, 0.2])
    resumed = SampleLog(tmp_path)
    assert list(resumed.times) == [0.0, 0.5, 1.0] and list(resumed.raw) == [0.0, 1.0, 2.0]
    assert resumed.heatmaps.shape == (3, 4, 5) and resumed.heatmaps[2, 0, 0] == 2
    assert resumed.last_time == 1.0
    resumed.append(1.5, 3.0, 0.3, np.zeros((4, 5), np.float16))
    assert list(SampleLog(tmp_path).times) == [0.0, 0.5, 1.0, 1.5]


def test_a_map_written_without_its_sample_record_is_not_counted(tmp_path):
    log = SampleLog(tmp_path)
    log.append(0.0, 1.0, 0.1, np.zeros((2, 2), np.float16))
    with (tmp_path / "heatmaps.bin").open("ab") as maps:  # maps go first: the record never came
        maps.write(np.ones((2, 2), np.float16).tobytes())
    assert len(SampleLog(tmp_path).times) == 1
    assert (tmp_path / "heatmaps.bin").stat().st_size == 2 * 2 * 2
