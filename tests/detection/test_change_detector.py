"""The CHANGE detector on generated flights over a textured world: new and vanished objects, no reference,
save/load, damaged files, and `evaluate` with each detector at its own frame size."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
import torch

from detection.change.detector import STATUS_NO_REFERENCE, ChangeDetector
from detection.change.train import train_from_items
from detection.detector_file import load_detector, read_payload
from detection.errors import DetectorFileError
from detection.registry import TrainItem, frame_size
from detection.telemetry import GeoOrigin, PoseTable
from detection.types import SampledFrames, VideoRecord
from tests.detection.change_scenes import textured_world

SIZE = (160, 96)  # (w, h)
STEP = 24  # world pixels (= metres) the camera moves per frame
FRAMES = 8
FIXTURE = (300, 250, 14)  # a dark square present in every reference flight: x, y, side in world pixels
NEW = (420, 240, 10)  # a bright square there only today


def flight(world: np.ndarray, tmp_path, name: str, *, seed: int, east: float = 0.0, fixture=True, new=False,
           label="normal", split="train") -> TrainItem:
    """One flight: the camera moves east over `world`; a telemetry sidecar (.npz poses, 1 px = 1 m)."""
    rng = np.random.default_rng(seed)
    scene = world.copy().astype(np.float32) * rng.uniform(0.9, 1.1)  # another day's light
    if fixture:
        x, y, side = FIXTURE
        scene[y : y + side, x : x + side] = (30, 30, 40)
    if new:
        x, y, side = NEW
        scene[y : y + side, x : x + side] = (250, 240, 90)
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    frames, lefts = [], []
    for i in range(FRAMES):
        left, top = 200 + STEP * i, 200
        frame = scene[top : top + SIZE[1], left : left + SIZE[0]].astype(np.float32)
        frame += rng.normal(0, 2, frame.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        lefts.append(left + east)
    times = np.arange(FRAMES) * 0.5
    east_m = np.array(lefts, float) + SIZE[0] / 2
    latitude, longitude = GeoOrigin(50.0, 4.0).to_latlon(east_m, np.zeros(FRAMES) - 248)
    poses = PoseTable.from_columns(times, latitude, longitude, rel_alt=np.full(FRAMES, 100.0))
    sidecar = poses.save(tmp_path / f"{name}.npz")
    record = VideoRecord(tmp_path / f"{name}.mp4", label=label, split=split, video_id=name, telemetry=sidecar)
    return TrainItem(SampledFrames(np.stack(frames), times), record)


def train_on_textured_world(tmp_path) -> tuple[ChangeDetector, np.ndarray]:
    """A CHANGE detector trained on three reference flights over one textured world (and a validation flight)."""
    world = textured_world(seed=3, size=700)
    references = [flight(world, tmp_path, f"ref{n}", seed=n) for n in range(3)]
    val = [flight(world, tmp_path, "val", seed=10, split="val")]
    torch.manual_seed(0)
    detector, _ = train_from_items(references, val, overrides={"persistence": 1}, seed=0)
    return detector, world


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("change")
    detector, world = train_on_textured_world(tmp_path)
    return detector, world, tmp_path


def peak_cell(heatmap: np.ndarray) -> tuple[float, float]:
    y, x = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return (x + 0.5) / heatmap.shape[1], (y + 0.5) / heatmap.shape[0]


def frame_position(world_x: float, world_y: float, frame: int) -> tuple[float, float]:
    """Where a world pixel lies in frame `frame`, as fractions of the frame's width and height."""
    return (world_x - (200 + STEP * frame)) / SIZE[0], (world_y - 200) / SIZE[1]


def test_an_inserted_object_is_found_as_new_at_its_place(trained):
    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_new", seed=20, new=True)
    scores = detector.score_frames(today.frames.frames, today.frames.times, poses=PoseTable.load(today.record.telemetry))
    inside = [i for i in range(FRAMES) if 0.05 < frame_position(NEW[0] + 5, NEW[1] + 5, i)[0] < 0.95]
    outside = [i for i in range(FRAMES) if i not in inside and frame_position(NEW[0] + 5, 0, i)[0] > 1.1]
    assert inside and outside
    assert scores.frame_scores[inside].min() > 2 * scores.frame_scores[outside].max()
    frame = inside[0]
    expected = frame_position(NEW[0] + NEW[2] / 2, NEW[1] + NEW[2] / 2, frame)
    found = peak_cell(np.asarray(scores.heatmaps[frame], float))
    assert abs(found[0] - expected[0]) < 0.1 and abs(found[1] - expected[1]) < 0.12
    assert scores.extras["change"][frame] == 1
    assert scores.extras["frame_status"][frame] == 0
    assert scores.extras["reference_ids"][scores.extras["reference_index"][frame]].startswith("ref")


def test_a_removed_fixture_is_reported_as_vanished_at_its_place(trained):
    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_vanished", seed=21, fixture=False)
    scores = detector.score_frames(today.frames.frames, today.frames.times, poses=PoseTable.load(today.record.telemetry))
    # the frames that show the whole place where the fixture was (at the frame's edge, half of it is no object)
    inside = [i for i in range(FRAMES) if 0.1 < frame_position(FIXTURE[0], 0, i)[0]
              and frame_position(FIXTURE[0] + FIXTURE[2], 0, i)[0] < 0.9]
    frame = inside[int(np.argmax(scores.frame_scores[inside]))]
    expected = frame_position(FIXTURE[0] + FIXTURE[2] / 2, FIXTURE[1] + FIXTURE[2] / 2, frame)
    found = peak_cell(np.asarray(scores.heatmaps[frame], float))
    assert abs(found[0] - expected[0]) < 0.1 and abs(found[1] - expected[1]) < 0.12
    assert scores.extras["change"][frame] == -1
    detector.threshold = float(scores.frame_scores[frame]) * 0.9
    events = detector.score_frames(today.frames.frames, today.frames.times,
                                   poses=PoseTable.load(today.record.telemetry)).events
    assert events and events[0].change == "vanished"
    assert events[0].reference_id.startswith("ref") and events[0].reference_time is not None


def test_a_frame_with_no_reference_nearby_is_no_reference_not_an_alarm(trained):
    detector, world, tmp_path = trained
    detector.threshold = 0.0  # anything scored above zero would be an alarm
    elsewhere = flight(world, tmp_path, "elsewhere", seed=22, east=5000.0, new=True)
    scores = detector.score_frames(elsewhere.frames.frames, elsewhere.frames.times,
                                   poses=PoseTable.load(elsewhere.record.telemetry))
    assert np.all(scores.extras["frame_status"] == STATUS_NO_REFERENCE)
    assert np.all(scores.frame_scores == 0) and not scores.events


def test_a_frame_no_reference_aligns_with_is_compared_through_todays_previous_frame(trained, monkeypatch):
    """When no candidate of another day aligns with a frame (open water, a turned heading), the previous frame's
    candidates are carried over through today's own motion (Comparator.carried): the frame is compared, and finds
    the new object where it is. The batch has the whole flight: the first frame, with no previous frame, is
    compared through the next one. The live path (`compare` with no previous frame) leaves it "alignment failed"."""
    from detection.change.comparator import STATUS_ALIGNMENT_FAILED, Comparator

    detector, world, tmp_path = trained
    today = flight(world, tmp_path, "today_carried", seed=23, new=True)
    poses = PoseTable.load(today.record.telemetry)
    direct = detector.score_frames(today.frames.frames, today.frames.times, poses=poses)
    inside = [i for i in range(1, FRAMES) if 0.05 < frame_position(NEW[0] + 5, NEW[1] + 5, i)[0] < 0.95]
    failing = {0, inside[0], inside[0] + 1}  # the first frame, and two in a row with the object in view
    analysis = {i: detector.analysis_frames(today.frames.frames, i) for i in failing}
    original = Comparator.align

    def align(self, frame, references, today_index=-1):
        if any(np.array_equal(frame, analysis[i]) for i in failing):
            return []  # as if no reference of another day aligned with this frame
        return original(self, frame, references, today_index)

    monkeypatch.setattr(Comparator, "align", align)
    carried = detector.score_frames(today.frames.frames, today.frames.times, poses=poses)
    references = [(int(j), detector.reference_frame(int(j))) for j in detector.candidates(
        today.frames.frames[:1], today.frames.times[:1], poses)[0][0] if j >= 0]
    alone, nothing = detector.compare(analysis[0], references, None)
    assert alone.status == STATUS_ALIGNMENT_FAILED and alone.score == 0 and nothing is None
    assert carried.extras["frame_status"][0] == 0 and carried.frame_scores[0] > 0
    for frame in sorted(failing - {0}):
        assert carried.extras["frame_status"][frame] == 0
        assert carried.frame_scores[frame] > 0.5 * direct.frame_scores[frame]
        found = peak_cell(np.asarray(carried.heatmaps[frame], float))
        expected = frame_position(NEW[0] + NEW[2] / 2, NEW[1] + NEW[2] / 2, frame)
        assert abs(found[0] - expected[0]) < 0.1 and abs(found[1] - expected[1]) < 0.12
    others = [i for i in range(FRAMES) if i not in failing]
    np.testing.assert_allclose(carried.frame_scores[others], direct.frame_scores[others], rtol=1e-5)


def test_save_and_load_give_the_same_scores(trained, tmp_path):
    detector, world, _ = trained
    today = flight(world, tmp_path, "today", seed=23, new=True)
    poses = PoseTable.load(today.record.telemetry)
    detector.save(tmp_path / "change.pt")
    loaded = load_detector(tmp_path / "change.pt")
    assert isinstance(loaded, ChangeDetector) and loaded.threshold == detector.threshold
    first = detector.score_frames(today.frames.frames, today.frames.times, poses=poses)
    second = loaded.score_frames(today.frames.frames, today.frames.times, poses=poses)
    np.testing.assert_allclose(first.frame_scores, second.frame_scores, rtol=1e-4, atol=1e-4)
    assert loaded.index.reference_ids == detector.index.reference_ids


def test_the_file_keeps_no_device_and_the_index_keeps_keypoints_and_cnn_maps(trained, tmp_path):
    _, world, _ = trained
    references = [flight(world, tmp_path, f"ref{n}", seed=n) for n in range(2)]
    detector, _ = train_from_items(references, [], overrides={"cnn_warp_max_angle": 10, "device": "cpu"}, seed=0)
    detector.save(tmp_path / "change.pt")
    payload = read_payload(tmp_path / "change.pt")
    assert "device" not in payload.config
    loaded = load_detector(tmp_path / "change.pt")
    index = loaded.index
    assert index.has_keypoints and index.has_cnn_maps
    assert index.cnn_codes.dtype == np.uint8 and len(index.cnn_codes) == len(index)
    keypoints = index.keypoints(3)
    assert len(keypoints.points) > 20 and tuple(keypoints.size) == loaded.comparator.align_size
    # the stored map is the frame's own CNN map, to within the quantisation step
    fresh = loaded.comparator.cnn_maps(index.frame(3)[None])[0]
    stored = np.moveaxis(index.cnn_map(3), -1, 0)
    step = index.cnn_ranges[3][:, 1].max()
    assert np.median(np.abs(fresh - stored)) < 8 * step  # the frame went through JPEG since
    assert loaded.to("cpu").device.type == "cpu"
    today = flight(world, tmp_path, "today", seed=25, new=True)
    scores = loaded.score_frames(today.frames.frames, today.frames.times, poses=PoseTable.load(today.record.telemetry))
    assert np.isfinite(scores.frame_scores).all()


def test_a_file_without_indexed_keypoints_or_maps_still_scores_alike(trained, tmp_path):
    detector, world, _ = trained
    today = flight(world, tmp_path, "today", seed=24, new=True)
    poses = PoseTable.load(today.record.telemetry)
    detector.save(tmp_path / "change.pt")
    payload = torch.load(tmp_path / "change.pt", weights_only=True)
    for name in ("keypoint_points", "keypoint_descriptors", "keypoint_offsets", "cnn_codes", "cnn_ranges"):
        payload["state"].pop(f"index.{name}", None)
    payload["extra"]["index"]["version"] = 1
    payload["config"]["device"] = ""  # files written before the device left the config
    torch.save(payload, tmp_path / "old.pt")
    old = load_detector(tmp_path / "old.pt")
    assert not old.index.has_keypoints and not old.index.has_cnn_maps and not detector.index.has_cnn_maps
    scores = old.score_frames(today.frames.frames, today.frames.times, poses=poses)
    assert np.isfinite(scores.frame_scores).all() and scores.frame_scores.max() > old.threshold


def test_a_corrupt_or_mismatched_index_is_a_clear_error(trained, tmp_path):
    detector, _, _ = trained
    path = tmp_path / "change.pt"
    detector.save(path)
    (tmp_path / "garbage.pt").write_bytes(b"not a detector" * 100)
    with pytest.raises(DetectorFileError, match="cannot be read"):
        load_detector(tmp_path / "garbage.pt")
    payload = torch.load(path, weights_only=True)
    payload["state"]["index.jpeg_offsets"] = payload["state"]["index.jpeg_offsets"][:-2]
    torch.save(payload, tmp_path / "mismatched.pt")
    with pytest.raises(DetectorFileError, match="JPEG offsets"):
        load_detector(tmp_path / "mismatched.pt")
    payload = torch.load(path, weights_only=True)
    payload["state"]["index.keypoint_offsets"] = payload["state"]["index.keypoint_offsets"][:-1]
    torch.save(payload, tmp_path / "keypoints.pt")
    with pytest.raises(DetectorFileError, match="keypoint offsets"):
        load_detector(tmp_path / "keypoints.pt")
    payload = torch.load(path, weights_only=True)
    payload["extra"]["index"]["version"] = 99
    torch.save(payload, tmp_path / "version.pt")
    with pytest.raises(DetectorFileError, match="version 99"):
        load_detector(tmp_path / "version.pt")
    payload = torch.load(path, weights_only=True)
    payload["state"]["index.jpeg_data"] = payload["state"]["index.jpeg_data"].clone().fill_(7)
    torch.save(payload, tmp_path / "damaged.pt")
    damaged = load_detector(tmp_path / "damaged.pt")
    with pytest.raises(DetectorFileError, match="damaged"):
        damaged.index.frame(0)
    assert read_payload(path).kind == "change"


def test_each_kind_samples_at_its_own_size():
    assert frame_size("change") is None
    assert frame_size("cae") == (124, 124) and frame_size("cae", {"tiled": True}) is None


def test_evaluate_runs_change_and_cae_each_at_its_own_frame_size(tmp_path):
    from detection.datasets.manifest import read_manifest
    from detection.evaluation.runner import EvaluationSettings, evaluate, parse_detectors
    from detection.synth import generate

    manifest = generate(tmp_path / "patrol", preset="patrol_tiny", seed=0, jobs=1)
    rows = list(csv.DictReader(open(manifest)))
    normal = next(r for r in rows if r["label"] == "normal")
    copy = tmp_path / "patrol" / "again"
    copy.mkdir()
    for suffix in ("mp4", "SRT", "gt.npz"):
        source = tmp_path / "patrol" / normal["video"].replace("mp4", suffix)
        (copy / f"patrol.{suffix}").write_bytes(source.read_bytes())
    rows.append({**normal, "video": "again/patrol.mp4", "split": "test", "telemetry": "again/patrol.SRT"})
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    records = list(getattr(read_manifest(manifest), "records", read_manifest(manifest)))
    seen = {}

    def load(record, size=(124, 124)):
        from detection.video.cache import frames_for

        frames = frames_for(record.path, fps=2.0, size=size, cache_dir=tmp_path / "cache")
        seen.setdefault(size, frames.frames.shape[1:3])
        return frames

    settings = EvaluationSettings(detectors=tuple(parse_detectors("change,cae", epochs=1)), manifest=str(manifest))
    result = evaluate(records, settings, load_frames=load, show_progress=False)
    assert not result.errors, result.errors
    assert seen[(124, 124)] == (124, 124) and seen[None] == (180, 320)
    entry = result.metrics["detectors"]["change"]
    assert entry.get("status") != "failed" and entry["frame_auc"] is not None
    # The generated area lists its everyday objects and every test flight has telemetry: both kinds are checked.
    for name in ("change", "cae"):
        everyday = result.metrics["detectors"][name]["everyday_objects"]
        assert everyday is not None and everyday["videos"] >= 2, everyday
        assert everyday["flagged_frames"] <= everyday["sightings"] or everyday["sightings"] == 0
    assert cv2 is not None


def test_score_store_keeps_reference_facts_and_comparisons(tmp_path):
    from detection.score_store import load_comparison, load_video_scores, save_video_scores
    from detection.types import DetectedEvent, VideoScores

    today, reference = np.full((1, 9, 16, 3), 10, np.uint8), np.full((1, 9, 16, 3), 20, np.uint8)
    scores = VideoScores(
        times=np.arange(3.0), frame_scores=np.zeros(3, np.float32), threshold=1.0,
        events=(DetectedEvent(0.0, 1.0, 0.5, 2.0, change="vanished", reference_id="day01", reference_time=3.5),),
        extras={"frame_status": np.array([0, 1, 2]), "reference_ids": ["day01", "day02"],
                "reference_index": np.array([1, -1, -1]), "reference_times": np.array([2.0, np.nan, np.nan]),
                "comparisons": (np.array([0]), today, reference)},
    )
    save_video_scores(tmp_path / "s", scores)
    loaded = load_video_scores(tmp_path / "s")
    assert loaded.events[0].change == "vanished" and loaded.events[0].reference_time == 3.5
    assert loaded.extras["reference_ids"] == ["day01", "day02"]
    assert list(loaded.extras["frame_status"]) == [0, 1, 2] and list(loaded.extras["reference_index"]) == [1, -1, -1]
    pair = load_comparison(tmp_path / "s", 0)
    assert pair is not None and pair[0][0, 0, 0] == 10 and pair[1][0, 0, 0] == 20
    assert load_comparison(tmp_path / "s", 2) is None


@pytest.mark.parametrize("new", [True, False])
def test_events_re_derived_from_the_score_file_are_the_scored_ones(trained, new):
    """`events_at` on what the score store kept gives `score_frames`' events (change and reference included),
    and at a higher threshold a subset of their frames: how a new threshold avoids comparing frames again."""
    from detection.score_store import load_video_scores, save_video_scores

    detector, world, tmp_path = trained
    today = flight(world, tmp_path, f"today_events_{new}", seed=22, new=new, fixture=new)
    scores = detector.score_frames(today.frames.frames, today.frames.times, poses=PoseTable.load(today.record.telemetry))
    save_video_scores(tmp_path / f"scores_{new}", scores)
    stored = load_video_scores(tmp_path / f"scores_{new}")
    assert scores.events and detector.events_at(stored, detector.threshold) == scores.events
    top = max(scores.events, key=lambda e: e.peak_score)
    (higher,) = detector.events_at(stored, top.peak_score)  # the peak frame alone: its own change decides
    peak = int(np.argmin(np.abs(stored.times - top.peak_time)))
    assert (higher.start, higher.end, higher.reference_id) == (top.peak_time, top.peak_time, top.reference_id)
    assert higher.change == {1: "new", -1: "vanished"}[int(stored.extras["change"][peak])]


def test_a_change_spread_over_the_whole_frame_is_not_an_object():
    """robust_z: a frame that differs from its references everywhere (light, haze, sea state) scores low; a
    few cells that differ from the rest of the same frame score high, whatever the frame-wide level."""
    from detection.change.compare import robust_z

    rng = np.random.default_rng(0)
    covered = np.ones((40, 60), bool)
    covered[:, :5] = False  # no reference there
    calm = rng.gamma(2.0, 0.5, size=covered.shape).astype(np.float32)
    rough = calm * 8.0  # the same frame with every difference eight times larger
    blob = calm.copy()
    blob[20:23, 30:33] += 15.0
    assert robust_z(rough, covered).max() == pytest.approx(robust_z(calm, covered).max(), rel=1e-4)
    z = robust_z(blob, covered)
    assert np.unravel_index(np.argmax(z), z.shape)[0] in range(20, 23)
    assert z.max() > 2 * robust_z(calm, covered).max()
    assert (z[:, :5] == 0).all() and (z >= 0).all()


def test_a_detector_file_from_before_frame_normalisation_keeps_its_scoring():
    """A saved config without the newer keys scores as it was trained (its threshold belongs to that scoring);
    a new config gets the new defaults."""
    from detection.change.config import ChangeConfig, make_config

    old = ChangeConfig.from_dict({"name": "default", "candidates": 3})
    assert (old.variation_pooling, old.frame_normalisation, old.use_colour) == ("own", "none", True)
    assert (old.reference_fill, old.frame_edge) == ("reflect", 0)
    ninth = {key: value for key, value in make_config({}).to_dict().items() if key != "reference_fill"}
    ninth = {key: value for key, value in ninth.items() if key != "frame_edge"}
    assert (ChangeConfig.from_dict(ninth).reference_fill, ChangeConfig.from_dict(ninth).frame_edge) == ("reflect", 0)
    new = make_config({})
    assert (new.variation_pooling, new.frame_normalisation, new.use_colour) == ("max", "mad", False)
    assert (new.reference_fill, new.frame_edge) == ("today", 1)
    assert ChangeConfig.from_dict(new.to_dict()) == new
    with pytest.raises(ValueError, match="frame_normalisation"):
        make_config({"frame_normalisation": "zscore"})
    assert old.cnn_max_enlargement == 0.0 and new.cnn_max_enlargement == 2.0
    fourteenth = {key: value for key, value in new.to_dict().items() if key != "cnn_max_enlargement"}
    assert ChangeConfig.from_dict(fourteenth).cnn_max_enlargement == 0.0
    fifteenth = {key: value for key, value in new.to_dict().items() if key != "ground_radius"}
    assert not ChangeConfig.from_dict(fifteenth).on_ground and new.on_ground
    assert not make_config({"persistence": 1}).on_ground  # no persistence at all
    with pytest.raises(ValueError, match="ground_radius"):
        make_config({"ground_radius": -1})


@pytest.mark.parametrize(("size", "seen", "before"), [
    ((160, 120), (240, 320), (480, 640)),  # d2's frames: 2x, where files before the limit showed them 4x
    ((96, 96), (192, 192), (384, 384)),
    ((320, 240), (480, 640), (480, 640)),  # 320 pixels and wider: as before
    ((1280, 720), (360, 640), (360, 640)),
])
def test_the_cnn_never_sees_a_frame_enlarged_more_than_twice(size, seen, before):
    """(h, w) of what the CNN sees for analysis frames of `size`, with the default config and with a detector
    file's from before `cnn_max_enlargement`."""
    from detection.change.config import ChangeConfig, make_config
    from detection.change.detector import Comparator

    comparator = Comparator(make_config({}), size, torch.device("cpu"))
    assert comparator.cnn.input_size(comparator.grid) == seen
    assert seen[1] <= max(2 * size[0], 640)
    old = Comparator(ChangeConfig.from_dict({"name": "default"}), size, torch.device("cpu"))
    assert old.cnn.input_size(old.grid) == before
    with pytest.raises(ValueError, match="cnn_max_enlargement"):
        make_config({"cnn_max_enlargement": -1})


@pytest.mark.parametrize("fill", ["today", "reflect"])
def test_the_edge_of_the_part_two_frames_share_is_not_a_change(fill):
    """The same ground seen 40 pixels apart: where the warped reference does not reach today's view, the CNN
    sees today's own pixels (`reference_fill` "today"), so the shared part compares as unchanged up to its
    edge; the reference's reflection there (files before the setting) reads as a change along that edge."""
    from detection.change.config import make_config
    from detection.change.detector import Comparator

    torch.set_grad_enabled(False)
    world = textured_world(seed=3, size=600)
    size, shift = (320, 192), 40
    today = np.ascontiguousarray(world[100:100 + size[1], 100:100 + size[0]])
    reference = np.ascontiguousarray(world[100:100 + size[1], 100 + shift:100 + shift + size[0]])
    homography = np.array([[1.0, 0.0, shift], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    comparator = Comparator(make_config({"reference_fill": fill, "frame_edge": 0}), size, torch.device("cpu"))
    (distances, _), = comparator.pair_maps(today, [(0, reference, homography)])
    cnn = distances[1]
    covered = np.isfinite(cnn)
    assert covered[:, -1].all() and not covered[:, 0].any()  # the left 40 pixels have no reference
    edge = np.zeros_like(covered)
    first = int(np.argmax(covered.any(axis=0)))
    edge[:, first:first + 4] = True  # the first few compared columns, within the network's receptive field
    edge_level = float(np.nanmax(cnn[edge & covered]))
    energy = float(np.mean(comparator.cnn_maps(today[None]) ** 2))  # a feature's typical squared size
    if fill == "today":
        assert edge_level < 1e-6 * energy
    else:
        assert edge_level > 0.01 * energy
        assert float(np.nanmax(cnn[covered & ~edge])) < 0.01 * energy  # elsewhere the pair matches


def test_the_frame_edge_ring_is_left_out_of_the_comparison():
    """`frame_edge` rings of cells along today's border are not compared (NaN), wherever the reference reaches."""
    from detection.change.compare import coverage

    identity = np.eye(3)
    full = coverage((64, 36), identity, (64, 36), erode=1, frame_edge=0)
    assert full.all()  # the reference covers the whole view: before the setting, every cell was compared
    ringed = coverage((64, 36), identity, (64, 36), erode=1, frame_edge=2)
    assert not ringed[:2].any() and not ringed[-2:].any() and not ringed[:, :2].any() and not ringed[:, -2:].any()
    assert ringed[2:-2, 2:-2].all()


def test_the_colour_branch_is_measured_only_when_it_is_used(monkeypatch):
    """Off (the default), the colour branch costs nothing and its distances are NaN; the CNN branch's are the
    same either way, so scores do not move; on, both branches are measured."""
    from detection.change import comparator as comparator_module
    from detection.change.config import make_config
    from detection.change.detector import Comparator

    torch.set_grad_enabled(False)
    world = textured_world(seed=5, size=600)
    size = (320, 192)
    today = np.ascontiguousarray(world[100:100 + size[1], 100:100 + size[0]])
    reference = np.ascontiguousarray(world[100:100 + size[1], 110:110 + size[0]])
    pair = [(0, reference, np.array([[1.0, 0.0, 10.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))]
    (both, _), = Comparator(make_config({"use_colour": True}), size, torch.device("cpu")).pair_maps(today, pair)
    assert np.isfinite(both[0]).any() and np.isfinite(both[1]).any()

    def never(*args, **kwargs):
        raise AssertionError("colour detail measured with the colour branch off")

    monkeypatch.setattr(comparator_module, "colour_detail", never)
    (cnn_only, _), = Comparator(make_config({}), size, torch.device("cpu")).pair_maps(today, pair)
    assert np.isnan(cnn_only[0]).all()
    np.testing.assert_array_equal(cnn_only[1], both[1])
