"""`report.md`: the metrics.json document as Markdown tables, one row per detector.

AUC and AP print with three decimals, rates as percentages, and anything undefined as a dash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from detection.evaluation.metrics import NOT_VISIBLE, PIXEL_SIZE_BUCKETS, SIZE_BUCKETS

DASH = "–"


def fmt_number(value, digits: int = 3) -> str:
    """A number with `digits` decimals, or a dash for None."""
    return DASH if value is None else f"{value:.{digits}f}"


def fmt_percent(value) -> str:
    """A fraction as a percentage with one decimal, or a dash for None."""
    return DASH if value is None else f"{100 * value:.1f}%"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _rows(detectors: dict, cells: Callable[[dict], list[str]], *, only_ok: bool = True) -> list[list[str]]:
    return [
        [name, *cells(entry)] for name, entry in detectors.items() if entry["status"] == "ok" or not only_ok
    ]


def _confusion(c: dict) -> str:
    return DASH if c.get("tp") is None else f"{c['tp']} / {c['fp']} / {c['tn']} / {c['fn']}"


def summary_table(detectors: dict, render: Callable | None = None) -> str:
    """The headline table: ranking quality, the threshold's result, video level and cost."""
    header = [
        "detector",
        "frame AUC",
        "macro AUC",
        "AP",
        "threshold",
        "accuracy",
        "precision",
        "recall",
        "F1",
    ]
    header += ["false alarms/h", "video AUC", "video F1", "train s", "score fps"]

    def cells(e: dict) -> list[str]:
        return [
            fmt_number(e["frame_auc"]),
            fmt_number(e["frame_auc_macro"]),
            fmt_number(e["frame_ap"]),
            fmt_number(e["threshold"], 4),
            fmt_percent(e["accuracy"]),
            fmt_percent(e["precision"]),
            fmt_percent(e["recall"]),
            fmt_percent(e["f1"]),
            fmt_number(e["false_alarms_per_hour"], 1),
            fmt_number(e["video_auc"]),
            fmt_percent(e["video_f1"]),
            fmt_number(e["train_seconds"], 1),
            fmt_number(e["score_fps"], 0),
        ]

    return (render or table)(header, _rows(detectors, cells))


def origin_form_table(detectors: dict, prefix: str = "", render: Callable | None = None) -> str:
    """The origin report's form (its Tables 1 to 5): both classes' P/R/F1 and the confusion matrix."""
    header = [
        "detector",
        "accuracy",
        "anomaly P",
        "anomaly R",
        "anomaly F1",
        "normal P",
        "normal R",
        "normal F1",
    ]
    header += ["TP / FP / TN / FN"]

    def cells(e: dict) -> list[str]:
        keys = ["accuracy", "precision", "recall", "f1", "normal_precision", "normal_recall", "normal_f1"]
        return [fmt_percent(e[prefix + key]) for key in keys] + [_confusion(e[prefix + "confusion"])]

    return (render or table)(header, _rows(detectors, cells))


def events_table(detectors: dict, render: Callable | None = None) -> str:
    """Intervals found, false events per hour of normal frames and per flight hour, seconds to the first flag."""
    header = ["detector", "intervals", "found", "missed", "false events", "false events/h", "mean s to flag"]
    header += ["median s to flag", "flight hours", "false events/flight h"]

    def cells(e: dict) -> list[str]:
        ev = e["events"]
        return [
            str(ev["intervals"]),
            str(ev["found"]),
            str(ev["missed"]),
            str(ev["false_events"]),
            fmt_number(ev["false_events_per_hour"], 1),
            fmt_number(ev["mean_latency_seconds"], 1),
            fmt_number(ev["median_latency_seconds"], 1),
            fmt_number(ev.get("flight_hours"), 4),  # .get: a schema 1 document has neither
            fmt_number(ev.get("false_events_per_flight_hour"), 1),
        ]

    return (render or table)(header, _rows(detectors, cells))


def everyday_table(detectors: dict, render: Callable | None = None) -> str:
    """The area's everyday objects (moored boats, parked cars) on the test flights: flagged never, ideally."""
    counted = {name: e for name, e in detectors.items() if e.get("everyday_objects")}  # .get: older documents
    if not counted:
        return "No everyday objects listed for this data (no `area.json` with fixtures, or no telemetry)."
    header = ["detector", "frames with one in view", "flagged frames peaking on one", "false events peaking on one"]

    def cells(e: dict) -> list[str]:
        ev = e["everyday_objects"]
        return [str(ev["sightings"]), str(ev["flagged_frames"]), str(ev["false_events"])]

    near = next(iter(counted.values()))["everyday_objects"]["near_metres"]
    note = (f"A flag or event peaks on an everyday object when its heatmap peak lies within {near:g} m of one on "
            "the ground, off every labelled object.")
    return note + "\n\n" + (render or table)(header, _rows(counted, cells))


def levels_table(detectors: dict, render: Callable | None = None) -> str:
    """The test frames on the level scale the web app shows (detection.levels): 1 is each detector's threshold."""
    header = ["detector", "level 0 (score)", "normal median", "normal 99%", "normal at or above 1", "anomalous median"]

    def cells(e: dict) -> list[str]:
        lv = e.get("levels") or {}  # .get: documents written before levels have none
        return [fmt_number(lv.get("zero")), fmt_number(lv.get("normal_median"), 2),
                fmt_number(lv.get("normal_p99"), 2), fmt_percent(lv.get("normal_at_or_above_1")),
                fmt_number(lv.get("anomalous_median"), 2)]

    return (render or table)(header, _rows(detectors, cells))


def per_class_table(detectors: dict, render: Callable | None = None) -> str:
    """Frame recall and intervals found per anomaly class, one column per class."""
    classes = sorted({c for e in detectors.values() if e["status"] == "ok" for c in e["per_class"]})
    if not classes:
        return "No anomaly classes in the test split."

    def cells(e: dict) -> list[str]:
        out = []
        for name in classes:
            row = e["per_class"].get(name)
            out.append(
                DASH if row is None else f"{fmt_percent(row['recall'])} ({row['found']}/{row['intervals']})"
            )
        return out

    note = "Frame recall, and (intervals found / intervals) per class."
    return note + "\n\n" + (render or table)(["detector", *classes], _rows(detectors, cells))


def per_size_table(detectors: dict, render: Callable | None = None) -> str:
    """Frame recall per anomaly size bucket and the >= 0.5% subset's AUC and F1."""
    buckets = [name for name, _, _ in SIZE_BUCKETS] + [NOT_VISIBLE]
    present = [
        b for b in buckets if any(b in e["per_size"] for e in detectors.values() if e["status"] == "ok")
    ]
    if not present:
        return "No ground-truth sizes (no generated anomalous videos in the test split)."

    def cells(e: dict) -> list[str]:
        out = []
        for bucket in present:
            row = e["per_size"].get(bucket)
            out.append(DASH if row is None else f"{fmt_percent(row['recall'])} (n={row['frames']})")
        large = e["large_anomalies"] or {}
        return out + [
            fmt_number(large.get("frame_auc")),
            fmt_percent(large.get("f1")),
            fmt_number(e["pixel_auc"]),
        ]

    header = ["detector", *[f"recall {b}" for b in present], "AUC (>=0.5%)", "F1 (>=0.5%)", "pixel AUC"]
    return (render or table)(header, _rows(detectors, cells))


def _found(row: dict | None) -> str:
    """"50.0% (1/2)"; a dash where there is nothing to find."""
    if not row or not row.get("objects"):
        return DASH
    return f"{fmt_percent(row['recall'])} ({row['found']}/{row['objects']})"


def _object_rows(detectors: dict, key: str, names: Sequence[str], label: Callable[[str], str] = str) -> list:
    """One row per name: its object count, then each detector's recall (found / objects), a dash over none."""
    ok = {name: entry for name, entry in detectors.items() if entry["status"] == "ok"}
    rows = []
    for name in names:
        tables = [entry.get(key, {}).get(name) for entry in ok.values()]
        count = next((row["objects"] for row in tables if row is not None), 0)
        rows.append([label(name), str(count), *[_found(row) for row in tables]])
    return rows


def _object_footer(detectors: dict) -> list[list[str]]:
    """All objects together, and the all-frames AUC beside them (a subset's recall never stands alone)."""
    ok = [entry for entry in detectors.values() if entry["status"] == "ok"]
    overall = [entry.get("object_recall") or {} for entry in ok]
    count = next((str(row["objects"]) for row in overall if row.get("objects") is not None), DASH)
    auc = [fmt_number(entry["frame_auc"]) for entry in ok]
    return [["all objects", count, *[_found(row) for row in overall]], ["frame AUC, all test frames", "", *auc]]


def object_size_table(detectors: dict, render: Callable | None = None) -> str:
    """Objects found per size in native pixels (schema: per_object_size), one column per detector."""
    ok = [name for name, entry in detectors.items() if entry["status"] == "ok"]
    if not any(detectors[name].get("per_object_size") for name in ok):
        return "No object-level results."
    sized = next(detectors[name]["object_recall"]["sized_objects"] for name in ok)
    total = next(detectors[name]["object_recall"]["objects"] for name in ok)
    note = (
        "An object is one labelled object's contiguous appearance; it is found when a flagged event overlaps it. "
        "Its size is sqrt(mask pixel area) at the video's native resolution, the median over its frames "
        f"({sized} of {total} objects have a mask); a recall over no objects is a dash."
    )
    names = [name for name, _, _ in PIXEL_SIZE_BUCKETS]
    rows = _object_rows(detectors, "per_object_size", names, lambda b: f"{b} px") + _object_footer(detectors)
    return note + "\n\n" + (render or table)(["size (native)", "objects", *ok], rows)


def object_class_table(detectors: dict, render: Callable | None = None) -> str:
    """Objects found per class (schema: per_object_class; `vanished` always listed), one column per detector."""
    ok = [name for name, entry in detectors.items() if entry["status"] == "ok"]
    classes = sorted({c for name in ok for c in detectors[name].get("per_object_class", {})})
    if not classes:
        return "No object-level results."
    rows = _object_rows(detectors, "per_object_class", classes) + _object_footer(detectors)
    return (render or table)(["class", "objects", *ok], rows)


def failures(detectors: dict) -> str:
    lines = [
        f"- **{name}** failed: {entry['error']}"
        for name, entry in detectors.items()
        if entry["status"] != "ok"
    ]
    for name, entry in detectors.items():
        lines += [f"- {name}: {warning}" for warning in entry["warnings"]]
    return "\n".join(lines) if lines else "None."


def render_markdown(document: dict) -> str:
    """The whole report.md for a metrics.json document."""
    detectors = document["detectors"]
    settings = document["settings"]
    split_rows = [
        [name, str(c["videos"]), str(c["normal"]), str(c["anomalous"]), str(c["frames"])]
        for name, c in document["splits"].items()
    ]
    parts = [
        "# Evaluation report",
        f"Manifest `{document['manifest']}`, created {document['created']}; frames at {settings['fps']} fps, "
        f"{settings['size'][0]}x{settings['size'][1]}, seed {settings['seed']}. Anomaly is the positive class; "
        "thresholds were chosen on the val split, every number below is on the test split.",
        table(["split", "videos", "normal", "anomalous", "frames"], split_rows),
        "## Frame level and cost",
        summary_table(detectors),
        "## Frame level in the origin report's form",
        origin_form_table(detectors),
        "## Video level (a video's score is its highest frame score)",
        origin_form_table(detectors, prefix="video_"),
        "## Events (an interval is found when a flagged event overlaps it)",
        events_table(detectors),
        "## Everyday objects (there on every flight: never to be flagged)",
        everyday_table(detectors),
        "## Levels (the web app's one scale: 0 = the median normal validation frame, 1 = the threshold)",
        levels_table(detectors),
        "## Recall per anomaly class",
        per_class_table(detectors),
        "## Recall per anomaly size (share of the frame)",
        per_size_table(detectors),
        "## Objects found per size (native pixels)",
        object_size_table(detectors),
        "## Objects found per class",
        object_class_table(detectors),
        "## Failures and warnings",
        failures(detectors),
    ]
    return "\n\n".join(parts) + "\n"
