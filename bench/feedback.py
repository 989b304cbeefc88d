"""Reviews teach the detectors: false events per flight hour and recall on the test flights, before and after one
round of reviews, side by side (tracker issue 23).

    PYTHONPATH=. python -P bench/feedback.py                          # patrol at 320x180, 12 s flights: minutes
    PYTHONPATH=. python -P bench/feedback.py --kinds cae,change
    PYTHONPATH=. python -P bench/feedback.py --preset patrol --size 1280x720 --seconds 60 --epochs 30   # long

1. The dataset is generated once into `--out` (skipped when its manifest is there): a patrol-like area flown on
   many days along one route, with ground truth intervals per anomaly.
2. "Before": each kind trains as the app trains it before any review: on the normal train flights, the last
   one held out for its threshold (the app's automatic split).
3. The validation flights are scored as new flights nobody labelled. An analyst reviews every event, from the
   ground truth: an event overlapping a true interval is confirmed (with that interval's class), any other is
   dismissed. The reviewed flights become records exactly as `Video.as_record` makes them: confirmed events
   are anomalous intervals (the flight turns anomalous), dismissed ones normal intervals.
4. "After": the same training with the reviewed flights added to both training (the CAE learns their dismissed
   spans, and the frames outside confirmed events) and validation (dismissed spans are normal frames for the
   threshold, confirmed events anomalous ones). CHANGE keeps its reference flights and takes the reviewed
   flights for its threshold.
5. Both versions score the test flights (never reviewed, never trained on); a test event is false when it
   overlaps no true interval (`detection.evaluation.metrics.match_events`, as `evaluate` counts them).
6. "After + masks" (flights with telemetry, `--mask-metres` > 0): the analyst also masks, on the ground, a
   square of that side around the peak of each event they dismissed (located through its flight's pose, as the
   app fixes a mask to the ground); the masks are projected into each test frame through its pose and the
   "after" version's test events peaking inside are dropped (`detection.masks.GroundMasks`). The masks come from
   the dismissals only: no mask is drawn from where the true anomalies are (one that covers a true anomaly on a
   test flight costs recall, as it would in the app).

Nothing here imports Django: the reviews are made from the ground truth, as the web app would store them.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

DEFAULT_OUT = Path("/tmp/skerry-feedback-bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="patrol", help="a detection.synth preset (default patrol)")
    parser.add_argument("--size", default="320x180", help="frame size WIDTHxHEIGHT for generation ('' = preset's)")
    parser.add_argument("--seconds", type=float, default=12.0, help="flight length in seconds (0 = preset's)")
    parser.add_argument("--out", type=Path, default=None, help=f"dataset folder (default under {DEFAULT_OUT})")
    parser.add_argument("--kinds", default="cae", help="comma-separated: cae, change")
    parser.add_argument("--epochs", type=int, default=8, help="CAE epochs")
    parser.add_argument("--fps", type=float, default=2.0, help="frames sampled per second")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mask-metres", type=float, default=20.0,
                        help="side of the ground mask drawn around each dismissed event's peak (0: no masks)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - {"cae", "change"})
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}: use cae and/or change")

    manifest = dataset(args)
    from detection.datasets.manifest import read_manifest

    records = read_manifest(manifest)
    train = [r for r in records if r.split == "train" and r.label == "normal"]
    reviewed = [r for r in records if r.split == "val"]
    test = [r for r in records if r.split == "test"]
    if len(train) < 2 or not reviewed or not test:
        raise SystemExit(f"{manifest}: needs 2+ normal train flights, and val and test flights")
    print(f"{manifest}: {len(train)} normal train flights, {len(reviewed)} flights to review, {len(test)} test flights")
    rows = []
    for kind in kinds:
        rows += run_kind(kind, train, reviewed, test, args, manifest.parent / ".frame-cache")
        print(table(rows), flush=True)  # so far: a long second kind does not hide the first one's numbers


def dataset(args) -> Path:
    """The manifest of the generated dataset, generating it first when it is not there yet."""
    from detection.synth.generate import generate

    overrides = {}
    if args.size:
        overrides["size"] = args.size
    if args.seconds:
        overrides["seconds"] = args.seconds
    out = args.out or DEFAULT_OUT / f"{args.preset}-{args.size or 'native'}-{args.seconds or 'full'}s-seed{args.seed}"
    manifest = out / "manifest.csv"
    if manifest.is_file():
        return manifest
    print(f"generating {args.preset} into {out} ...", flush=True)
    return Path(generate(out, preset=args.preset, seed=args.seed, **overrides))


def run_kind(kind: str, train, reviewed, test, args, cache: Path) -> list[dict]:
    from detection.registry import TrainItem, frame_size, trainer
    from detection.types import SampledFrames
    from detection.video.cache import frames_for

    size = frame_size(kind)

    def item(record):
        sampled = frames_for(record.path, fps=args.fps, size=size, cache_dir=cache)
        return TrainItem(SampledFrames(np.asarray(sampled.frames), np.asarray(sampled.times)), record)

    overrides = {"epochs": args.epochs} if kind == "cae" else {}
    train_items, held = [item(r) for r in train[:-1]], [item(train[-1])]
    if kind == "change":  # its references are every normal train flight; the last one also sets the threshold
        train_items = train_items + held
    started = time.perf_counter()
    before, _ = trainer(kind)(train_items, held, overrides=overrides, seed=args.seed)
    print(f"{kind}: trained before reviews in {time.perf_counter() - started:.0f} s", flush=True)

    reviewed_items, review_counts, masks = [], {"confirmed": 0, "dismissed": 0}, []
    for flight in (item(r) for r in reviewed):
        scored = score(before, flight)
        record, counts, dismissed = review(flight.record, scored.events)
        reviewed_items.append(TrainItem(flight.frames, record))
        review_counts = {k: review_counts[k] + counts[k] for k in counts}
        masks += ground_masks(flight.record, dismissed, args.mask_metres)
        for event in dismissed:
            peak = "" if event.peak_x is None else f", peak at ({event.peak_x:.2f}, {event.peak_y:.2f})"
            print(f"  {kind} dismissed: {flight.record.video_id} {event.start:.1f}-{event.end:.1f} s, score "
                  f"{event.peak_score:.4g}{peak}", flush=True)
    print(f"{kind}: {review_counts['confirmed']} events confirmed, {review_counts['dismissed']} dismissed on "
          f"{len(reviewed_items)} validation flights; {len(masks)} ground masks drawn", flush=True)

    started = time.perf_counter()
    after_train = train_items if kind == "change" else train_items + reviewed_items
    after, report = trainer(kind)(after_train, held + reviewed_items, overrides=overrides, seed=args.seed)
    print(f"{kind}: retrained with the reviews in {time.perf_counter() - started:.0f} s", flush=True)
    learned = {k: v for k, v in report.validation_metrics.items()
               if k in ("dismissed_frames", "dismissed_looks", "confirmed_looks", "looks_radius")}
    if learned:
        print(f"{kind}: learned from the reviews: " + ", ".join(f"{k} {v}" for k, v in learned.items()), flush=True)

    test_items = [item(r) for r in test]
    found_after = [score(after, i).events for i in test_items]
    rows = [measure(f"{kind} before", before, test_items, [score(before, i).events for i in test_items], review_counts),
            measure(f"{kind} after", after, test_items, found_after, review_counts)]
    if masks:
        from detection.masks import drop_masked

        masked = [drop_masked(events, [], flight_masks(i.record, masks)) for i, events in zip(test_items, found_after)]
        rows.append(measure(f"{kind} after + masks", after, test_items, masked, review_counts))
    return rows


def flight_camera(record):
    """(PoseTable, CameraModel) of a flight with telemetry, else None. The camera is the generator's patrol
    camera (`detection.mapping.camera`'s default field of view) at the video's own aspect."""
    if record.telemetry is None:
        return None
    from detection.mapping.camera import CameraModel
    from detection.telemetry import read_telemetry
    from detection.video.probe import probe

    info = probe(record.path)
    return read_telemetry(record.telemetry), CameraModel.for_frame(info.width, info.height)


def ground_masks(record, dismissed, side: float) -> list:
    """A ground square of `side` metres around each dismissed event's peak, as the analyst would draw it."""
    flight = flight_camera(record) if side > 0 else None
    placed = [e for e in dismissed if e.peak_x is not None and e.peak_y is not None]
    if flight is None or not placed:
        return []
    from detection.mapping.camera import locate
    from detection.telemetry.geo import EARTH_RADIUS_M

    poses, camera = flight
    latitude, longitude = locate(poses, [e.peak_time for e in placed], [e.peak_x for e in placed],
                                 [e.peak_y for e in placed], camera)
    squares = []
    for lat, lon in zip(latitude, longitude):
        if not (np.isfinite(lat) and np.isfinite(lon)):
            continue
        d_lat = np.degrees(side / 2 / EARTH_RADIUS_M)
        d_lon = d_lat / np.cos(np.radians(lat))
        squares.append([(lat - d_lat, lon - d_lon), (lat - d_lat, lon + d_lon), (lat + d_lat, lon + d_lon),
                        (lat + d_lat, lon - d_lon)])
    return squares


def flight_masks(record, polygons):
    from detection.masks import GroundMasks

    flight = flight_camera(record)
    return None if flight is None else GroundMasks(tuple(polygons), *flight)


def score(detector, item):
    options = {}
    if getattr(detector, "uses_telemetry", False) and item.record.telemetry is not None:
        from detection.telemetry import read_telemetry

        options["poses"] = read_telemetry(item.record.telemetry)
    return detector.score_frames(item.frames.frames, item.frames.times, **options)


def review(record, events) -> tuple:
    """(the flight as `Video.as_record` makes it once an analyst has judged its events from the ground truth:
    events over a true interval confirmed (with its class), the others dismissed; the counts; the dismissed
    events themselves)."""
    from detection.types import Interval

    confirmed, dismissed = [], []
    for event in events:
        truth = next((i for i in record.intervals if event.start <= i.end and event.end >= i.start), None)
        if truth is not None:
            confirmed.append(Interval(event.start, event.end, truth.anomaly_class or "confirmed event"))
        else:
            dismissed.append(event)
    normal = tuple(Interval(d.start, d.end) for d in dismissed
                   if not any(d.start <= c.end and d.end >= c.start for c in confirmed))
    made = dataclasses.replace(record, label="anomalous" if confirmed else "",
                               intervals=tuple(sorted(confirmed, key=lambda i: (i.start, i.end))),
                               normal_intervals=normal)
    return made, {"confirmed": len(confirmed), "dismissed": len(dismissed)}, dismissed


def measure(name: str, detector, items, events_per_item, review_counts: dict) -> dict:
    from detection.evaluation import metrics

    found = intervals = false = 0
    seconds = 0.0
    false_events = []
    for item, events in zip(items, events_per_item):
        latencies, wrong = metrics.match_events(item.record.intervals, events)
        intervals += len(latencies)
        found += sum(latency is not None for latency in latencies)
        false += wrong
        false_events += [(item.record.video_id, e) for e in events
                         if not any(e.start <= i.end and e.end >= i.start for i in item.record.intervals)]
        times = np.asarray(item.frames.times, dtype=np.float64)
        seconds += float(times[-1] - times[0]) + metrics.frame_step_seconds(times) if len(times) else 0.0
    return {"detector": name, "threshold": float(detector.threshold), "false_events": false,
            "false_per_flight_hour": metrics.per_hour(false, seconds), "found": found, "intervals": intervals,
            "recall": found / intervals if intervals else None, "flight_seconds": seconds,
            "false_list": false_events, **review_counts}


def table(rows: list[dict]) -> str:
    head = ("detector", "threshold", "false events", "false / flight h", "intervals found", "recall")
    lines = ["", " | ".join(head), " | ".join("---" for _ in head)]
    for row in rows:
        recall = "–" if row["recall"] is None else f"{row['recall']:.2f}"
        per_hour = "–" if row["false_per_flight_hour"] is None else f"{row['false_per_flight_hour']:.0f}"
        lines.append(" | ".join([row["detector"], f"{row['threshold']:.4g}", str(row["false_events"]), per_hour,
                                 f"{row['found']} of {row['intervals']}", recall]))
    for row in rows:  # where the false events are: a review teaches a place, so are they where one was made?
        for video_id, event in row["false_list"]:
            peak = "" if event.peak_x is None else f", peak at ({event.peak_x:.2f}, {event.peak_y:.2f}) of the frame"
            lines.append(f"  false event of {row['detector']}: {video_id} {event.start:.1f}-{event.end:.1f} s, "
                         f"score {event.peak_score:.4g}{peak}")
    test_seconds = rows[0]["flight_seconds"] if rows else 0
    lines.append(f"\ntest footage: {test_seconds:.0f} s; reviews per kind: "
                 + ", ".join(f"{r['detector'].split()[0]} {r['confirmed']} confirmed / {r['dismissed']} dismissed"
                             for r in rows if r["detector"].endswith("before")))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
