"""The generator end to end on the tiny preset: real H.264 files, a valid manifest agreeing with the ground
truth, the same bytes for the same seed (one or two worker processes), the CLI, and two workers in a process
whose Celery app has a Redis read pending (forked workers hung there)."""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import av
import numpy as np
import pytest

from detection.datasets.manifest import read_manifest
from detection.labels import frame_labels
from detection.synth import cli, generate
from detection.synth.groundtruth import load_groundtruth
from detection.synth.presets import TINY

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("tiny") / "out", preset="tiny", seed=0, jobs=1)


def run_cli(argv: list[str]) -> int:
    """The generate subcommand as `python -m detection` runs it, without importing the torch commands."""
    parser = argparse.ArgumentParser(prog="python -m detection")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_writes_a_valid_manifest_of_every_planned_video(tiny_set):
    records = read_manifest(tiny_set)  # checks files exist and intervals lie inside the probed durations
    plans = TINY.datasets[0].videos
    assert [r.video_id for r in records] == [p.path for p in plans]
    assert [r.split for r in records] == [p.split for p in plans]
    for record, plan in zip(records, plans):
        assert record.label == ("anomalous" if plan.classes else "normal")
        assert {i.anomaly_class for i in record.intervals} == set(plan.classes)


def test_the_videos_are_real_h264_of_the_preset_size_and_length(tiny_set):
    with av.open(str(tiny_set.parent / "day03" / "patrol.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.format.name) == ("h264", "yuv420p")
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == TINY.seconds * TINY.fps
    assert frames[0].shape == (TINY.height, TINY.width, 3)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 5  # the camera moves


def test_the_manifest_intervals_match_the_ground_truth_at_every_frame_and_at_2_fps(tiny_set):
    for record in read_manifest(tiny_set):
        truth = load_groundtruth(record.path)
        assert truth is not None and truth.frame_count == TINY.seconds * TINY.fps
        for times in (np.arange(truth.frame_count) / TINY.fps, np.arange(0, TINY.seconds, 0.5)):
            assert np.array_equal(frame_labels(times, record.intervals), truth.labels_at(times)), record.video_id
        if record.label == "normal":
            assert truth.area_fraction_at(np.arange(0, 3, 0.25)).max() == 0


def test_the_same_seed_gives_the_same_files_with_one_or_two_workers(tiny_set, tmp_path):
    reports = []
    again = generate(tmp_path / "again", preset="tiny", seed=0, jobs=2,
                     progress=lambda fraction, stage: reports.append(fraction))
    assert reports == sorted(reports) and reports[-1] == 1.0
    other = generate(tmp_path / "other", preset="tiny", seed=1, jobs=1)
    assert again.read_text() == tiny_set.read_text()
    for plan in TINY.datasets[0].videos:
        assert digest(again.parent / plan.path) == digest(tiny_set.parent / plan.path)
        first, second = load_groundtruth(tiny_set.parent / plan.path), load_groundtruth(again.parent / plan.path)
        assert np.array_equal(first.masks, second.masks) and np.array_equal(first.object_box, second.object_box)
    assert digest(other.parent / "day01" / "patrol.mp4") != digest(tiny_set.parent / "day01" / "patrol.mp4")


def test_the_cli_generates_with_overrides(tmp_path, capsys):
    out = tmp_path / "cli"
    assert run_cli(["generate", str(out), "--preset", "tiny", "--seconds", "1", "--size", "32x24", "--fps", "4",
                 "--jobs", "1"]) == 0
    assert f"wrote {out / 'manifest.csv'}" in capsys.readouterr().out
    with av.open(str(out / "day04" / "patrol.mp4")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 4 and (frames[0].width, frames[0].height) == (32, 24)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"size": "33x32"}, "even"), ({"colour": "red"}, "unknown generator setting"), ({"fps": 0}, "fps")],
)
def test_bad_settings_are_refused(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, preset="tiny", **overrides)
    with pytest.raises(ValueError, match="unknown preset"):
        generate(tmp_path, preset="huge")


def test_encoding_repeats_byte_for_byte_whatever_the_process_did_before(tmp_path):
    # With x264's assembly paths the same frames gave different bytes depending on their place in memory and
    # on what had been encoded before; the writer's settings must make the file a function of the frames only.
    from detection.synth.encode import H264Writer

    rng = np.random.default_rng(3)
    base = rng.random((12, 16, 3))
    frames = [
        (np.kron(base + 0.3 * np.sin(k / 3 + base), np.ones((10, 10, 1))) * 200 + rng.random((120, 160, 3)) * 40)
        .clip(0, 255).astype(np.uint8)
        for k in range(40)
    ]
    paths = []
    for n, batch in enumerate((frames, frames[::-1], frames, [f.copy() for f in frames])):
        paths.append(tmp_path / f"clip{n}.mp4")
        with H264Writer(paths[-1], width=160, height=120, fps=10) as writer:
            for frame in batch:
                writer.write(frame)
    assert digest(paths[0]) == digest(paths[2]) == digest(paths[3])
    assert digest(paths[0]) != digest(paths[1])


# A process whose Celery app asked the workers something over Redis: no worker answers, so the reply queue's
# BRPOP is left pending on the socket. Forked renderers inherited that connection; the child's kombu after-fork
# hook and the parent then both waited for the one reply, and both hung for good.
PENDING_REDIS_READ = """
import sys
from pathlib import Path

from celery import Celery

from detection.synth import generate

app = Celery("synth-hazard", broker=sys.argv[1])
app.conf.broker_transport_options = {"global_keyprefix": sys.argv[2]}
app.control.inspect(timeout=0.5).ping()
generate(Path(sys.argv[3]), preset="tiny", seed=0, jobs=2)
print("generated")
"""
HANG_BOUND = 120  # seconds; the tiny preset takes a few on two cores


def test_two_workers_finish_in_a_process_with_a_pending_redis_read(tiny_set, tmp_path):
    redis = pytest.importorskip("redis")
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis server answers at {url}")
    out = tmp_path / "out"
    # A session of its own, so that a hang is killed whole (the parent and any renderer it started).
    process = subprocess.Popen(
        [sys.executable, "-c", PENDING_REDIS_READ, url, f"skerry-synth-hazard-{uuid.uuid4().hex}:", str(out)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=HANG_BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"generating with two workers hung beside a pending Redis read (killed after {HANG_BOUND} s): "
                    f"{output[-2000:]}")
    assert process.returncode == 0 and "generated" in output, output[-2000:]
    for plan in TINY.datasets[0].videos:
        assert digest(out / plan.path) == digest(tiny_set.parent / plan.path)
