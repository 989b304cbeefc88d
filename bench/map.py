"""Maps on a generated patrol (telemetry known): how far event markers and mosaic landmarks land from the truth,
and what a mosaic costs.

    PYTHONPATH=. python -P bench/map.py                      # patrol_tiny, generated into a temporary folder
    PYTHONPATH=. python -P bench/map.py --preset patrol      # the full patrol (60 s flights at 1280x720)
    PYTHONPATH=. python -P bench/map.py --data /tmp/patrol   # a patrol generated earlier (its manifest's folder)

Marker error: no detector is trained here, so each ground-truth object's mask centre (where a heatmap peaks
on it) is projected through the camera model from the flight's telemetry (`detection.mapping.accuracy`) and
compared with the object's true position; every anomalous flight's objects. Landmark error: the mosaic of the
first normal flight (the area's reference flight) is built as the mosaic job builds it, and each fixture
(moored boats, parked cars, buoy) is placed through it in every frame that shows it. Build time is per minute
of flight, frames decoded included.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="patrol_tiny", choices=("patrol_tiny", "patrol"))
    parser.add_argument("--data", type=Path, default=None, help="a generated patrol's folder (else generated)")
    parser.add_argument("--fps", type=float, default=None,
                        help="mosaic sampling rate (default: the job's 1 fps; 4 for patrol_tiny's 4-second flights)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fps = args.fps or (4.0 if args.preset == "patrol_tiny" else 1.0)
    if args.data is not None:
        print(json.dumps({"preset": args.preset, **markers(args.data), **mosaic(args.data, fps)}, indent=1))
        return
    from detection.synth import generate

    with tempfile.TemporaryDirectory(prefix="skerry-map-bench-") as folder:
        print(f"generating {args.preset} into {folder} ...", flush=True)
        generate(folder, preset=args.preset, seed=args.seed, jobs=1)
        print(json.dumps({"preset": args.preset, **markers(Path(folder)), **mosaic(Path(folder), fps)}, indent=1))


def flights(folder: Path):
    from detection.datasets.manifest import read_manifest

    manifest = read_manifest(folder / "manifest.csv")
    return list(getattr(manifest, "records", manifest))


def markers(folder: Path) -> dict:
    from detection.mapping.accuracy import marker_errors
    from detection.mapping.camera import CameraModel
    from detection.synth.groundtruth import load_groundtruth
    from detection.telemetry import read_telemetry

    hfov = json.loads((folder / "area.json").read_text())["hfov_degrees"]
    errors = []
    for record in flights(folder):
        truth = load_groundtruth(record.path)
        if record.label != "anomalous" or truth is None or record.telemetry is None:
            continue
        camera = CameraModel.for_frame(truth.size[1], truth.size[0], hfov)
        errors.append(marker_errors(truth, read_telemetry(record.telemetry), camera))
    errors = np.concatenate(errors) if errors else np.zeros(0)
    return {"marker_objects": int(len(errors)), "marker_error_median_m": _round(np.median(errors)),
            "marker_error_p90_m": _round(np.percentile(errors, 90)), "marker_error_max_m": _round(errors.max())}


def mosaic(folder: Path, fps: float) -> dict:
    from detection.mapping.accuracy import landmark_errors
    from detection.mapping.camera import CameraModel
    from detection.mapping.flight import FlightSampling, sample_flight
    from detection.mapping.mosaic import build_mosaic
    from detection.telemetry import read_telemetry

    record = next(r for r in flights(folder) if r.label == "normal")
    hfov = json.loads((folder / "area.json").read_text())["hfov_degrees"]
    poses = read_telemetry(record.telemetry)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        sampled = sample_flight(record.path, work, sampling=FlightSampling(fps=fps))
        frames = np.asarray(sampled.frames)
        camera = CameraModel.for_frame(frames.shape[2], frames.shape[1], hfov)
        built = build_mosaic(frames, sampled.times, poses, camera=camera)
        seconds = time.perf_counter() - started
        errors = landmark_errors(built, folder / "area.json", poses, sampled.times, (frames.shape[2], frames.shape[1]))
    minutes = (poses.time[-1] - poses.time[0] + 1 / fps) / 60
    stats = built.stats
    return {"mosaic_flight": str(record.path.relative_to(folder)), "mosaic_frames": stats["frames"],
            "mosaic_size_px": list(built.image.shape[1::-1]), "ground_resolution_m_per_px": _round(built.resolution),
            "registered_pairs": stats["registered_pairs"], "failed_pairs": stats["failed_pairs"],
            "drift_without_telemetry_m": _round(stats["drift_m"]), "fused_residual_median_m": _round(stats["residual_median_m"]),
            "landmark_sightings": int(len(errors)), "landmark_error_median_m": _round(np.median(errors)),
            "landmark_error_max_m": _round(errors.max()), "build_seconds": _round(seconds),
            "build_seconds_per_flight_minute": _round(seconds / minutes)}


def _round(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


if __name__ == "__main__":
    main()
