"""Every file of the bad-input corpus gets a clear error or works; nothing crashes."""

from pathlib import Path

import pytest

from detection.errors import ManifestError, VideoError
from tests.corpus.make_corpus import make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {entry.name: entry for entry in make_corpus(tmp_path_factory.mktemp("corpus"))}


VIDEO_ENTRIES = [
    "truncated_faststart", "truncated_index_at_end", "damaged_moov", "random_bytes", "fake_ftyp",
    "image_renamed", "audio_only", "zero_bytes", "one_frame", "rotated", "variable_frame_rate",
    "odd_3x5", "odd_4097x3", "hevc", "hostile_name",
]


@pytest.mark.parametrize("name", VIDEO_ENTRIES)
def test_each_corpus_video_is_ingested_or_rejected_clearly(corpus, name, tmp_path):
    from detection.video.probe import probe
    from detection.video.sampling import sample_frames

    entry = corpus[name]
    if entry.expect == "error":
        with pytest.raises(VideoError) as caught:
            probe(entry.path)
            sample_frames(entry.path, fps=2, size=(32, 32), out_dir=tmp_path)
        message = str(caught.value)
        assert len(message) > 10 and "Traceback" not in message
        assert entry.path.name in message or "video" in message.lower()
        return
    info = probe(entry.path)
    assert info.width > 0 and info.height > 0
    sampled = sample_frames(entry.path, fps=2, size=(32, 32), out_dir=tmp_path)
    assert sampled.frames.shape[1:] == (32, 32, 3) and len(sampled.frames) >= 1
    assert len(sampled.times) == len(sampled.frames)
    if name == "truncated_faststart":
        assert sampled.warning and "stopped" in sampled.warning.lower()


def test_the_rotated_video_reports_its_rotation(corpus):
    from detection.video.probe import probe

    info = probe(corpus["rotated"].path)
    assert abs(info.rotation) in (90, 270)


def test_the_bad_manifest_reports_every_problem_with_its_line(corpus):
    from detection.datasets.manifest import read_manifest

    with pytest.raises(ManifestError) as caught:
        read_manifest(corpus["bad_manifest"].path)
    problems = caught.value.problems
    text = "\n".join(problems)
    for line in range(3, 12):
        assert f"line {line}" in text, f"line {line} not reported:\n{text}"
    assert Path(corpus["bad_manifest"].path).exists()
