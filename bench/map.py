"""Maps on a generated patrol (telemetry known): how far event markers and mosaic landmarks land from the truth,
and what a mosaic costs.

    PYTHONPATH=. python -P bench/map.py                      # patrol_tiny, generated into a temporary folder
    PYTHONPATH=. python -P bench/map.py --preset patrol      # the full patrol (60 s flights at 1280x720)
    PYTHONPATH=. python -P bench/map.py --data /tmp/patrol   # a patrol generated earlier (its manifest's folder)
    PYTHONPATH=. python -P bench/map.py --detector cae       # and a CAE's own markers (trained here)
    PYTHONPATH=. python -P bench/map.py --preset patrol --size 640x360 --seconds 20 --detector cae --detector change

Marker error from mask centres: each ground-truth object's mask centre (where a heatmap would peak on it) is
projected through the camera model from the flight's telemetry (`detection.mapping.accuracy`) and compared
with the object's true position; every anomalous flight's objects. Marker error from a detector (`--detector
KIND`, or `--detector-file FILE` for one trained elsewhere): the kind trains on the train flights (threshold on
the validation flights, as `evaluate` trains it), scores the test flights, and each event is placed from its
heatmap peak by the web app's own code (`detection.mapping.camera.locate_peaks`); an event whose peak is on
an object in view (`accuracy.event_marker_errors`) is compared with that object's true position. Landmark
error: the mosaic of the first normal flight (the area's reference flight) is built as the mosaic job builds
it, and each fixture (moored boats, parked cars, buoy) is placed through it in every frame that shows it.
Build time is per minute of flight, frames decoded included.
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
    parser.add_argument("--size", default="", help="generate at WIDTHxHEIGHT instead of the preset's")
    parser.add_argument("--seconds", type=float, default=0.0, help="generate flights this long (0: the preset's)")
    parser.add_argument("--fps", type=float, default=None,
                        help="mosaic sampling rate (default: the job's 1 fps; 4 for patrol_tiny's 4-second flights)")
    parser.add_argument("--detector", action="append", default=[], choices=("cae", "change"),
                        help="train this kind and measure its events' markers (repeatable)")
    parser.add_argument("--detector-file", type=Path, action="append", default=[],
                        help="measure the markers of this trained detector instead of training one (repeatable)")
    parser.add_argument("--score-fps", type=float, default=None,
                        help="frames per second the detectors train and score at (default 2; 4 for patrol_tiny)")
    parser.add_argument("--epochs", type=int, default=8, help="CAE epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fps = args.fps or (4.0 if args.preset == "patrol_tiny" else 1.0)
    if args.data is not None:
        report(args.data, args, fps)
        return
    from detection.synth import generate

    overrides = {k: v for k, v in (("size", args.size), ("seconds", args.seconds)) if v}
    with tempfile.TemporaryDirectory(prefix="skerry-map-bench-") as folder:
        print(f"generating {args.preset} {overrides or ''} into {folder} ...", flush=True)
        generate(folder, preset=args.preset, seed=args.seed, jobs=1, **overrides)
        report(Path(folder), args, fps)


def report(folder: Path, args, fps: float) -> None:
    results = {"preset": args.preset, **markers(folder), **mosaic(folder, fps)}
    score_fps = args.score_fps or (4.0 if args.preset == "patrol_tiny" else 2.0)
    for kind in args.detector:
        results[f"detector {kind}"] = detector_markers(folder, kind, None, args, score_fps)
    for file in args.detector_file:
        results[f"detector file {file.name}"] = detector_markers(folder, "", file, args, score_fps)
    print(json.dumps(results, indent=1))


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


def detector_markers(folder: Path, kind: str, file: Path | None, args, fps: float) -> dict:
    """A detector's markers on the test flights: each event placed from its heatmap peak as the app places it,
    against the true position of the object the peak is on."""
    from detection.registry import TrainItem
    from detection.types import SampledFrames
    from detection.video.cache import frames_for

    records = flights(folder)
    hfov = json.loads((folder / "area.json").read_text())["hfov_degrees"]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="skerry-map-frames-") as cache:
        def item(record, size):
            sampled = frames_for(record.path, fps=fps, size=size, cache_dir=cache)
            return TrainItem(SampledFrames(np.asarray(sampled.frames), np.asarray(sampled.times)), record)

        detector, size = obtain_detector(kind, file, records, item, args)
        trained = time.perf_counter()
        test = [r for r in records if r.split == "test"]
        flights_scored = [flight_markers(detector, item(record, size), hfov) for record in test]
    errors = np.concatenate([f["errors"] for f in flights_scored]) if test else np.zeros(0)
    matched = errors[np.isfinite(errors)]
    summary = {"test_flights": len(test), "events": sum(f["events"] for f in flights_scored),
               "events_without_peak": sum(f["events"] - len(f["errors"]) for f in flights_scored),
               "events_at_a_frame_showing_an_object": sum(int(f["in_view"].sum()) for f in flights_scored),
               "events_on_an_object": int(len(matched)), "threshold": float(detector.threshold),
               "train_seconds": None if file else _round(trained - started), "score_seconds": _round(time.perf_counter() - trained)}
    if len(matched):
        summary.update(marker_error_median_m=_round(np.median(matched)),
                       marker_error_p90_m=_round(np.percentile(matched, 90)), marker_error_max_m=_round(matched.max()))
    return summary


def obtain_detector(kind: str, file: Path | None, records, item, args):
    """(detector, frame size it scores at): loaded from `file`, or `kind` trained on the train flights with its
    threshold on the validation flights."""
    from detection.detector_file import load_detector
    from detection.registry import frame_size, trainer

    if file is not None:
        detector = load_detector(file)
        tiled = bool(getattr(getattr(detector, "config", None), "tiled", False))
        return detector, frame_size(getattr(detector, "kind", ""), {"tiled": tiled})
    size = frame_size(kind)
    split = {name: [item(r, size) for r in records if r.split == name] for name in ("train", "val")}
    print(f"training {kind} on {len(split['train'])} flights (threshold on {len(split['val'])}) ...", flush=True)
    overrides = {"epochs": args.epochs} if kind == "cae" else {}
    detector, _ = trainer(kind)(split["train"], split["val"], overrides=overrides, seed=args.seed)
    return detector, size


def flight_markers(detector, flight, hfov: float) -> dict:
    """One test flight scored; its events with a heatmap peak placed by `locate_peaks` and measured."""
    from detection.mapping.accuracy import event_marker_errors
    from detection.mapping.camera import CameraModel, locate_peaks
    from detection.synth.groundtruth import load_groundtruth
    from detection.telemetry import read_telemetry

    poses = read_telemetry(flight.record.telemetry)
    options = {"poses": poses} if getattr(detector, "uses_telemetry", False) else {}
    scored = detector.score_frames(flight.frames.frames, flight.frames.times, **options)
    peaked = [e for e in scored.events if e.peak_x is not None]
    truth = load_groundtruth(flight.record.path)
    camera = CameraModel.for_frame(truth.size[1], truth.size[0], hfov)
    latitude, longitude = locate_peaks(poses, [e.peak_time for e in peaked], [e.peak_x for e in peaked],
                                       [e.peak_y for e in peaked], camera)
    errors, in_view = event_marker_errors(truth, peaked, latitude, longitude)
    return {"events": len(scored.events), "errors": errors, "in_view": in_view}


def _round(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


if __name__ == "__main__":
    main()
