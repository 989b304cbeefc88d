"""Generate a labelled synthetic patrol dataset: videos, per-video ground truth and a manifest per dataset.

The world, route and textures are built once per area (deterministic by seed); each video is then rendered
frame by frame and encoded, in worker processes when `jobs` > 1 (forked, so the world is shared, not copied).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detection.datasets.manifest import write_manifest
from detection.synth.anomalies import ANOMALY_CLASSES, plan_anomalies
from detection.synth.encode import H264Writer
from detection.synth.groundtruth import GroundTruthBuilder, groundtruth_path
from detection.synth.patrol import Flight, draw_conditions, plan_route
from detection.synth.presets import Preset, VideoPlan, get_preset
from detection.synth.render import Renderer, Textures
from detection.synth.world import build_world
from detection.types import Interval, ProgressFn, VideoRecord, no_progress

_AREA: dict = {}  # the current area's world, route and textures, inherited by forked workers


@dataclass(frozen=True)
class VideoTask:
    dataset: int
    number: int
    plan: VideoPlan
    path: Path


def generate(out_dir: Path | str, *, preset: str = "demo", seed: int = 0, progress: ProgressFn = no_progress,
             jobs: int | None = None, **overrides) -> Path:
    """Render a preset's videos under `out_dir` and return the (first) manifest's path.

    Overrides: size ("WxH"), fps, seconds, world_size, footprint, crf. `jobs` worker processes (forked;
    default two, or one on a single core) render videos in parallel; the files do not depend on it.
    The benchmark preset writes `d1/manifest.csv` and `d2/manifest.csv`.
    """
    spec = get_preset(preset).with_overrides(**overrides)
    out_dir = Path(out_dir)
    margin = 0.8 * spec.footprint + 30
    if spec.world_size < 2 * margin + 64:
        raise ValueError(f"world_size {spec.world_size} is too small for footprint {spec.footprint}")
    progress(0.0, "building the world")
    world = build_world(seed, spec.world_size)
    _AREA.clear()
    _AREA.update(
        spec=spec, seed=seed, world=world, textures=Textures.for_area(seed),
        foreign=build_world(seed, spec.world_size, palette="desert") if spec.needs_foreign_world else None,
        route=plan_route(world, seed=seed, margin=margin),
    )
    tasks = [
        VideoTask(d, n, plan, out_dir / dataset.folder / plan.path)
        for d, dataset in enumerate(spec.datasets)
        for n, plan in enumerate(dataset.videos)
    ]
    results = _run(tasks, jobs, progress)
    manifests = []
    for d, dataset in enumerate(spec.datasets):
        records = [results[(d, n)] for n in range(len(dataset.videos))]
        manifests.append(write_manifest(out_dir / dataset.folder / "manifest.csv", records))
    progress(1.0, "done")
    return manifests[0]


def _run(tasks: list[VideoTask], jobs: int, progress: ProgressFn) -> dict:
    results = {}
    jobs = max(1, min(2 if jobs is None else jobs, len(tasks), os.cpu_count() or 1))
    if jobs == 1:
        for i, task in enumerate(tasks):
            def frame_progress(fraction, stage, i=i):
                progress((i + fraction) / len(tasks), stage)
            results[(task.dataset, task.number)] = render_video(task, frame_progress)
        return results
    context = multiprocessing.get_context("fork")
    _AREA["updates"] = context.Queue()  # inherited by the forked workers: (task key, fraction done)
    done = {(task.dataset, task.number): 0.0 for task in tasks}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(render_video, task, _Reporter((task.dataset, task.number))): task for task in tasks}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                task = futures[future]
                results[(task.dataset, task.number)] = future.result()
                done[(task.dataset, task.number)] = 1.0
            while True:
                try:
                    key, fraction = _AREA["updates"].get_nowait()
                except queue.Empty:
                    break
                done[key] = max(done[key], fraction)
            progress(sum(done.values()) / len(tasks), f"rendered {len(results)} of {len(tasks)} videos")
    return results


class _Reporter:
    """A worker's progress callback: sends its task's fraction done to the parent through the inherited queue."""

    def __init__(self, key: tuple[int, int]):
        self.key = key

    def __call__(self, fraction: float, stage: str) -> None:
        _AREA["updates"].put((self.key, fraction))


def render_video(task: VideoTask, progress: ProgressFn = no_progress) -> VideoRecord:
    """Render, encode and write the ground truth of one video of the current area; its manifest record."""
    spec: Preset = _AREA["spec"]
    seed, plan = _AREA["seed"], task.plan
    size = (spec.height, spec.width)
    rng = np.random.default_rng([seed, 100, task.dataset, task.number])
    flight = Flight(
        _AREA["route"], seed=int(rng.integers(2**31)), duration=spec.seconds, footprint=spec.footprint,
        frame_width=spec.width, heading_offset=np.radians(plan.heading), altitude=plan.altitude,
        reverse=plan.reverse,
    )
    light_change_at = float(rng.uniform(0.35, 0.65) * spec.seconds) if plan.light_change else None
    conditions = draw_conditions(rng, heavy_clouds=plan.heavy_clouds, light_change_at=light_change_at)
    anomalies = plan_anomalies(rng, _AREA["world"], flight, list(plan.classes), frame_size=size,
                               wind=conditions.wind, size_scale=plan.size_scale)
    renderer = Renderer(_AREA["world"], flight, conditions, anomalies, size=size,
                        seed=int(rng.integers(2**31)), textures=_AREA["textures"], foreign=_AREA["foreign"])
    truth = GroundTruthBuilder(fps=spec.fps, size=size, class_names=ANOMALY_CLASSES)
    frame_count = int(round(spec.seconds * spec.fps))
    with H264Writer(task.path, width=spec.width, height=spec.height, fps=spec.fps, crf=spec.crf) as writer:
        for index in range(frame_count):
            frame, masks = renderer.render(index / spec.fps, index)
            writer.write((frame * 255 + 0.5).astype(np.uint8))
            truth.add_frame([(anomalies[k].anomaly_class, mask) for k, mask in masks])
            if index % 10 == 0:
                progress(index / frame_count, f"rendering {plan.path}")
    notes = {"heavy_clouds": float(plan.heavy_clouds), "light_change_at": light_change_at or -1.0,
             "light_change_factor": conditions.light_change_factor}
    groundtruth = truth.build(notes)
    groundtruth.save(groundtruth_path(task.path))
    intervals: tuple[Interval, ...] = groundtruth.intervals()
    return VideoRecord(path=task.path, label="anomalous" if intervals else "normal", split=plan.split,
                       intervals=intervals, video_id=plan.path)
