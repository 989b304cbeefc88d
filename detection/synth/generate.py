"""Generate a labelled synthetic patrol dataset: videos, per-video ground truth and a manifest per dataset.

The world, route and textures are built once per area (deterministic by seed); each video is then rendered
frame by frame and encoded, in worker processes when `jobs` > 1. The workers are spawned, not forked, and get the
built area pickled (about 11 MB for the demo: milliseconds, where building it again takes seconds): a forked
child inherits whatever the parent holds, and a parent with a Celery/kombu Redis connection waiting on a BRPOP
reply hangs with its child, whose kombu after-fork hook reads that reply.
Patrol presets also place the area's everyday objects once (`area.json` lists them with their latitude and
longitude) and dress the world for each day (sun, tide, season). They, and the demo preset, write each flight's
DJI `.SRT` sidecar from the camera path that rendered its frames. A preset's `flights` (or the `flights`
override) renders only some of its videos, each with the seed it has in the full list, so byte-identical.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import queue
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from detection.datasets.manifest import write_manifest
from detection.synth.anomalies import ANOMALY_CLASSES, VANISHED, Anomaly, plan_anomalies
from detection.synth.encode import H264Writer
from detection.synth.fixtures import AreaFixtures, plan_fixtures
from detection.synth.groundtruth import GroundTruthBuilder, groundtruth_path
from detection.synth.patrol import Flight, draw_conditions, plan_route
from detection.synth.presets import Preset, VideoPlan, get_preset
from detection.synth.render import Renderer, Textures
from detection.synth.seasons import DayLook, draw_day_look, dress_world
from detection.synth.sidecar import AreaMap
from detection.synth.world import build_world
from detection.telemetry import write_srt
from detection.types import Interval, ProgressFn, VideoRecord, no_progress

PATROL_CLASSES = ANOMALY_CLASSES + (VANISHED,)

_AREA: dict = {}  # the current area's world, route and textures; a worker's copy comes from `_enter_area`


@dataclass(frozen=True)
class VideoTask:
    dataset: int
    number: int
    plan: VideoPlan
    path: Path


def generate(out_dir: Path | str, *, preset: str = "demo", seed: int = 0, progress: ProgressFn = no_progress,
             jobs: int | None = None, **overrides) -> Path:
    """Render a preset's videos under `out_dir` and return the (first) manifest's path.

    Overrides: size ("WxH"), fps, seconds, world_size, footprint, crf, flights (video paths). `jobs` worker
    processes (spawned; default two, or one on a single core) render videos in parallel; the files do not depend
    on it. Spawned workers import the main module: a script that calls this with `jobs` > 1 keeps its top level
    under `if __name__ == "__main__":`. The benchmark preset writes `d1/manifest.csv` and `d2/manifest.csv`.
    """
    spec = get_preset(preset).with_overrides(**overrides)
    out_dir = Path(out_dir)
    progress(0.0, "building the world")
    prepare_area(spec, seed)
    if spec.area is not None:
        for dataset in spec.datasets:
            write_area(out_dir / dataset.folder / "area.json", AreaMap(spec.area, spec.world_size), _AREA["fixtures"])
    results = _run(video_tasks(spec, out_dir), jobs, progress)
    manifests = []
    for d, dataset in enumerate(spec.datasets):
        records = [results[(d, n)] for n in range(len(dataset.videos)) if (d, n) in results]
        if records:
            manifests.append(write_manifest(out_dir / dataset.folder / "manifest.csv", records))
    progress(1.0, "done")
    return manifests[0]


def prepare_area(spec: Preset, seed: int) -> None:
    """Build the area every video of `spec` is rendered in (world, route, textures, a patrol's fixtures) and
    make it the current one, for `plan_video` and `render_video` here (and, through `_run`, in the workers)."""
    margin = 0.8 * spec.footprint + 30
    if spec.world_size < 2 * margin + 64:
        raise ValueError(f"world_size {spec.world_size} is too small for footprint {spec.footprint}")
    world = build_world(seed, spec.world_size, surface=spec.area is not None)
    route = plan_route(world, seed=seed, margin=margin)
    _AREA.clear()
    _AREA.update(
        spec=spec, seed=seed, world=world, textures=Textures.for_area(seed),
        foreign=build_world(seed, spec.world_size, palette="desert") if spec.needs_foreign_world else None,
        route=route, fixtures=None,
    )
    if spec.area is not None:
        _AREA["fixtures"] = plan_fixtures(world, route, seed=seed, metres_per_px=spec.area.metres_per_px,
                                          reach=0.3 * spec.footprint)


def video_tasks(spec: Preset, out_dir: Path) -> list[VideoTask]:
    """One task per planned video, in plan order (the order sets each video's seed), less those that the
    preset's `flights` leaves out (the others keep their numbers, so their seeds)."""
    return [
        VideoTask(d, n, plan, out_dir / dataset.folder / plan.path)
        for d, dataset in enumerate(spec.datasets)
        for n, plan in enumerate(dataset.videos)
        if spec.selected(plan)
    ]


def _run(tasks: list[VideoTask], jobs: int, progress: ProgressFn) -> dict:
    results = {}
    jobs = max(1, min(2 if jobs is None else jobs, len(tasks), os.cpu_count() or 1))
    if jobs == 1:
        for i, task in enumerate(tasks):
            def frame_progress(fraction, stage, i=i):
                progress((i + fraction) / len(tasks), stage)
            results[(task.dataset, task.number)] = render_video(task, frame_progress)
        return results
    context = multiprocessing.get_context("spawn")
    updates = context.Queue()  # (task key, fraction done), from the workers' `_Reporter`s
    done = {(task.dataset, task.number): 0.0 for task in tasks}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_enter_area,
                             initargs=(dict(_AREA), updates)) as pool:
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
                    key, fraction = updates.get_nowait()
                except queue.Empty:
                    break
                done[key] = max(done[key], fraction)
            progress(sum(done.values()) / len(tasks), f"rendered {len(results)} of {len(tasks)} videos")
    return results


# glibc's mallopt parameters and the values a worker renders with (see `_keep_freed_memory`).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_FREED, MMAP_FROM = 128 << 20, 32 << 20


def _enter_area(area: dict, updates) -> None:
    """A worker's start: the parent's area (as `prepare_area` built it, unpickled) becomes the current one, and
    `updates` the queue its `_Reporter`s send progress to."""
    _keep_freed_memory()
    _AREA.clear()
    _AREA.update(area, updates=updates)


def _keep_freed_memory() -> None:
    """Let this process's malloc reuse the frame-sized arrays it frees instead of returning them to the system.
    A fresh process maps every large numpy temporary anew, so each frame faults in fresh pages: spawned workers
    took 4x the page faults and twice the system time of forked ones, whose heap the parent's world building had
    already tuned so (glibc raises these thresholds as large blocks are freed). Nothing to do off glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_FROM)
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED)


class _Reporter:
    """A worker's progress callback: sends its task's fraction done to the parent through the area's queue."""

    def __init__(self, key: tuple[int, int]):
        self.key = key

    def __call__(self, fraction: float, stage: str) -> None:
        _AREA["updates"].put((self.key, fraction))


@dataclass(frozen=True)
class VideoScene:
    """Everything one video is rendered from: its flight, renderer (with the anomalies) and notes on the day."""

    flight: Flight
    renderer: Renderer
    notes: dict
    look: DayLook | None = None


def plan_video(task: VideoTask) -> VideoScene:
    """The flight, conditions, anomalies and renderer of one video of the current area, as its seed makes them."""
    spec: Preset = _AREA["spec"]
    seed, plan = _AREA["seed"], task.plan
    size = (spec.height, spec.width)
    rng = np.random.default_rng([seed, 100, task.dataset, task.number])
    flight = Flight(
        _AREA["route"], seed=int(rng.integers(2**31)), duration=spec.seconds, footprint=spec.footprint,
        frame_width=spec.width, heading_offset=np.radians(plan.heading), altitude=plan.altitude,
        reverse=plan.reverse, same_speed_daily=spec.area is not None,
    )
    light_change_at = float(rng.uniform(0.35, 0.65) * spec.seconds) if plan.light_change else None
    conditions = draw_conditions(rng, heavy_clouds=plan.heavy_clouds, light_change_at=light_change_at)
    classes = [c for c in plan.classes if c != VANISHED]
    pixel_scale = flight.base_gsd * spec.width / 1280 if spec.area is not None else None
    anomalies = plan_anomalies(rng, _AREA["world"], flight, classes, frame_size=size, wind=conditions.wind,
                               size_scale=plan.size_scale, pixel_scale=pixel_scale)
    notes = {"heavy_clouds": float(plan.heavy_clouds), "light_change_at": light_change_at or -1.0,
             "light_change_factor": conditions.light_change_factor}
    world, fixtures, look = _AREA["world"], (), None
    if spec.area is not None:
        world, fixtures, look = _dress_the_day(task, anomalies, notes)
    renderer = Renderer(world, flight, conditions, anomalies, size=size, seed=int(rng.integers(2**31)),
                        textures=_AREA["textures"], foreign=_AREA["foreign"], fixtures=fixtures,
                        ripple_step=spec.ripple_step)
    return VideoScene(flight, renderer, notes, look)


def _dress_the_day(task: VideoTask, anomalies: list[Anomaly], notes: dict):
    """A patrol day: the world in the day's light, tide and season, and the everyday objects, less the moored
    boat(s) that vanished (each appended to `anomalies` as a `vanished` anomaly)."""
    spec: Preset = _AREA["spec"]
    area: AreaFixtures = _AREA["fixtures"]
    daily = np.random.default_rng([_AREA["seed"], 101, task.dataset, task.number])
    look = draw_day_look(daily, season=(task.plan.day - 1) / max(spec.area.season_days - 1, 1))
    boats = area.of_kind("moored_boat")
    gone = [int(i) for i in daily.choice(boats, size=task.plan.classes.count(VANISHED), replace=False)]
    for i in gone:
        fixture = area.objects[i]
        anomalies.append(Anomaly(VANISHED, 0.0, spec.seconds, fixture.sprite, fixture.path, 0.0, 0.0))
    notes.update(day=float(task.plan.day), sun_azimuth=look.sun_azimuth, tide=look.tide, season=look.season,
                 vanished_fixture=float(gone[0]) if gone else -1.0)
    fixtures = tuple(f for i, f in enumerate(area.objects) if i not in gone)
    return dress_world(_AREA["world"], look), fixtures, look


def render_video(task: VideoTask, progress: ProgressFn = no_progress) -> VideoRecord:
    """Render, encode and write the ground truth (and a patrol's `.SRT`) of one video; its manifest record."""
    spec: Preset = _AREA["spec"]
    plan = task.plan
    scene = plan_video(task)
    renderer, anomalies = scene.renderer, scene.renderer.anomalies
    geography = spec.geography
    area_map = AreaMap(geography, spec.world_size) if geography is not None else None
    truth = GroundTruthBuilder(fps=spec.fps, size=(spec.height, spec.width),
                               class_names=PATROL_CLASSES if spec.area is not None else ANOMALY_CLASSES)
    frame_count = int(round(spec.seconds * spec.fps))
    with H264Writer(task.path, width=spec.width, height=spec.height, fps=spec.fps, crf=spec.crf,
                    keyint=spec.keyint, x264_preset=spec.x264_preset) as writer:
        for index in range(frame_count):
            t = index / spec.fps
            frame, masks = renderer.render(t, index)
            writer.write((frame * 255 + 0.5).astype(np.uint8))
            latlon = [_latlon(area_map, anomalies[k], t) for k, _ in masks] if area_map else None
            truth.add_frame([(anomalies[k].anomaly_class, mask) for k, mask in masks], latlon)
            if index % 10 == 0:
                progress(index / frame_count, f"rendering {plan.path}")
    groundtruth = truth.build(scene.notes)
    groundtruth.save(groundtruth_path(task.path))
    telemetry = None
    if area_map is not None:
        telemetry = write_flight_srt(task.path.with_suffix(".SRT"), scene.flight, area_map, plan)
    intervals: tuple[Interval, ...] = groundtruth.intervals()
    return VideoRecord(path=task.path, label="anomalous" if intervals else "normal", split=plan.split,
                       intervals=intervals, video_id=plan.path, telemetry=telemetry)


def _latlon(area_map: AreaMap, anomaly: Anomaly, t: float) -> tuple[float, float]:
    if anomaly.is_frame_level:
        return (np.nan, np.nan)
    x, y, _ = anomaly.pose_at(t)
    latitude, longitude = area_map.latlon(x, y)
    return float(latitude), float(longitude)


def write_flight_srt(path: Path, flight: Flight, area_map: AreaMap, plan: VideoPlan) -> Path:
    """The flight's DJI sidecar: the camera pose at every frame time, the same poses that rendered the frames."""
    spec: Preset = _AREA["spec"]
    times = np.arange(int(round(spec.seconds * spec.fps))) / spec.fps
    camera = np.array([flight.pose(t) for t in times])
    poses = area_map.poses(camera, times, spec.width)
    settings = area_map.settings
    start = datetime.fromisoformat(settings.first_day) + timedelta(
        days=(max(plan.day, 1) - 1) * settings.days_apart, hours=plan.hours_later)
    return write_srt(path, poses, start)


def write_area(path: Path, area_map: AreaMap, fixtures: AreaFixtures) -> Path:
    """`area.json`: where the area lies and the everyday objects every flight passes, with their places."""
    settings = area_map.settings
    jetty_lat, jetty_lon = area_map.latlon(*fixtures.jetty[:2])
    objects = []
    for i, fixture in enumerate(fixtures.objects):
        x, y, heading = fixture.pose_at(0.0)
        latitude, longitude = area_map.latlon(x, y)
        objects.append({"index": i, "kind": fixture.anomaly_class, "latitude": round(float(latitude), 8),
                        "longitude": round(float(longitude), 8), "world_x": round(x, 3), "world_y": round(y, 3),
                        "heading_deg": round(float(np.degrees(heading)), 3)})
    document = {
        "origin": list(settings.origin), "metres_per_px": settings.metres_per_px,
        "world_size": area_map.world_size, "hfov_degrees": settings.hfov_degrees,
        "takeoff_abs_alt": settings.takeoff_abs_alt,
        "jetty": {"latitude": round(float(jetty_lat), 8), "longitude": round(float(jetty_lon), 8)},
        "fixtures": objects,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
