"""The clip feature cache: a second extraction is a hit; a changed video or extractor misses."""

import numpy as np
import pytest

from detection.features import build_extractor
from detection.features.cache import FeatureCache, frames_digest
from detection.video.sampling import sample_frames
from tests.support.videos import make_video


@pytest.fixture(scope="module")
def extractor():
    return build_extractor("mobilenet_v2", input_size=32, clip_len=2)


@pytest.fixture
def sampled(tmp_path):
    return sample_frames(make_video(tmp_path / "plain.mp4", seconds=3), fps=2.0, size=(48, 48))


def test_a_second_extraction_reads_the_cache(tmp_path, extractor, sampled):
    cache = FeatureCache(tmp_path / "cache")
    first = cache.clip_features(extractor, sampled.frames, sampled.times)
    second = FeatureCache(tmp_path / "cache").clip_features(extractor, sampled.frames, sampled.times)
    assert (cache.hits, cache.misses) == (0, 1)
    assert np.array_equal(first, second)
    assert len(list((tmp_path / "cache" / "mobilenet_v2").rglob("*.npy"))) == 1


def test_a_changed_video_misses(tmp_path, extractor, sampled):
    cache = FeatureCache(tmp_path / "cache")
    cache.clip_features(extractor, sampled.frames, sampled.times)
    changed = sample_frames(make_video(tmp_path / "box.mp4", seconds=3, box_from=1.0), fps=2.0, size=(48, 48))
    features = cache.clip_features(extractor, changed.frames, changed.times)
    assert (cache.hits, cache.misses) == (0, 2)
    assert features.shape == (3, 2560)


def test_other_sampling_settings_miss(tmp_path, extractor, sampled):
    cache = FeatureCache(tmp_path / "cache")
    cache.clip_features(extractor, sampled.frames, sampled.times)
    cache.clip_features(extractor, sampled.frames, sampled.times + 0.25)
    assert cache.misses == 2


def test_a_changed_extractor_misses(tmp_path, extractor, sampled):
    cache = FeatureCache(tmp_path / "cache")
    cache.clip_features(extractor, sampled.frames, sampled.times)
    cache.clip_features(
        build_extractor("mobilenet_v2", input_size=32, clip_len=3), sampled.frames, sampled.times
    )
    cache.clip_features(
        build_extractor("mobilenet_v2", input_size=64, clip_len=2), sampled.frames, sampled.times
    )
    assert (cache.hits, cache.misses) == (0, 3)


def test_each_pooling_has_its_own_entry(tmp_path, extractor, sampled):
    cache = FeatureCache(tmp_path / "cache")
    by_pooling = {
        pooling: cache.clip_features(
            build_extractor("mobilenet_v2", input_size=32, clip_len=2, pooling=pooling),
            sampled.frames,
            sampled.times,
        )
        for pooling in ("avg", "max", "max-avg")
    }
    assert (cache.hits, cache.misses) == (0, 3)
    assert len(list((tmp_path / "cache" / "mobilenet_v2").rglob("*.npy"))) == 3
    assert not np.allclose(by_pooling["max"], by_pooling["max-avg"])
    again = cache.clip_features(
        build_extractor("mobilenet_v2", input_size=32, clip_len=2, pooling="max"),
        sampled.frames,
        sampled.times,
    )
    assert cache.hits == 1 and np.array_equal(again, by_pooling["max"])


def test_a_damaged_entry_is_recomputed(tmp_path, extractor, sampled):
    cache = FeatureCache(tmp_path / "cache")
    first = cache.clip_features(extractor, sampled.frames, sampled.times)
    (entry,) = (tmp_path / "cache").rglob("*.npy")
    entry.write_bytes(b"garbage")
    again = cache.clip_features(extractor, sampled.frames, sampled.times)
    assert cache.misses == 2 and np.allclose(first, again)


def test_the_digest_reads_every_frame():
    frames = np.zeros((10, 4, 4, 3), dtype=np.uint8)
    times = np.arange(10.0)
    changed = frames.copy()
    changed[7, 2, 2, 1] = 1
    assert frames_digest(frames, times) != frames_digest(changed, times)
