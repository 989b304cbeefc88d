"""Time the synthetic patrol generator: CPU seconds per preset (all processes) and render cost per frame.

    .venv/bin/python -P bench/synth_generate.py --preset demo --jobs 2   (-P: bench/queue.py would shadow the stdlib)
Wall time depends on what else runs on the machine; CPU seconds (user + sys, children included) do not much.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from detection.synth.anomalies import plan_anomalies
from detection.synth.generate import generate
from detection.synth.patrol import Flight, draw_conditions, plan_route
from detection.synth.presets import get_preset
from detection.synth.render import Renderer, Textures
from detection.synth.world import build_world


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def render_cost(preset: str, frames: int = 60) -> float:
    """CPU milliseconds to render one frame (no encoding) of the preset, with every object class in view."""
    spec = get_preset(preset)
    world = build_world(0, spec.world_size)
    route = plan_route(world, seed=0, margin=0.8 * spec.footprint + 30)
    flight = Flight(route, seed=1, duration=spec.seconds, footprint=spec.footprint, frame_width=spec.width)
    rng = np.random.default_rng(0)
    weather = draw_conditions(rng)
    size = (spec.height, spec.width)
    anomalies = plan_anomalies(rng, world, flight, ["boat", "person", "car", "drone", "debris", "fire", "smoke"],
                               frame_size=size, wind=weather.wind)
    renderer = Renderer(world, flight, weather, anomalies, size=size, seed=0, textures=Textures.for_area(0))
    start = time.process_time()
    for index in range(frames):
        renderer.render(index * spec.seconds / frames, index)
    return (time.process_time() - start) / frames * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    spec = get_preset(args.preset)
    frames = sum(len(d.videos) for d in spec.datasets) * int(round(spec.seconds * spec.fps))
    with tempfile.TemporaryDirectory() as out:
        wall, cpu = time.perf_counter(), cpu_seconds()
        generate(Path(out), preset=args.preset, seed=0, jobs=args.jobs)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(f"{args.preset}: {frames} frames at {spec.width}x{spec.height}, jobs={args.jobs}: "
          f"{wall:.1f} s wall, {cpu:.1f} CPU s ({cpu / frames * 1000:.1f} CPU ms per frame, world included)")
    print(f"render only: {render_cost(args.preset):.1f} CPU ms per frame")


if __name__ == "__main__":
    main()
