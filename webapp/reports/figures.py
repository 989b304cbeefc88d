"""Plotly figures as plain dicts, built from arrays: pure functions, no database, no request.

Dicts rather than `plotly.graph_objects` keep a 2-hour timeline fast to build; the tests validate every
builder's output with `plotly.graph_objects.Figure`. `figure_json` encodes numpy arrays as plotly.js typed
arrays (base64), so that long score series cost 4 bytes a point on the wire.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
from plotly.utils import PlotlyJSONEncoder

from webapp.detectors.levels import level_colour, level_text

# Events are coloured by level (the caller passes each event's colour); the review shows in how strongly the
# band is filled and in the marker's outline, so that the level colour reads the same on every page.
REVIEW_ALPHA = {"unreviewed": 0.28, "confirmed": 0.5, "dismissed": 0.12}
REVIEW_OUTLINE = {"unreviewed": {"color": "#444444", "width": 0.75}, "confirmed": {"color": "#111111", "width": 2.5},
                  "dismissed": {"color": "#8a8a8a", "width": 1}}
REVIEW_OPACITY = {"unreviewed": 1.0, "confirmed": 1.0, "dismissed": 0.35}
NO_LEVEL_COLOUR = "#c8ced6"  # when a caller passes no colour (webapp.detectors.levels.UNKNOWN_COLOUR)
# Labelled intervals: cool colours, never the hot ones of the level scale, one per class in order of appearance.
CLASS_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#8c564b", "#7f7f7f", "#bcbd22", "#e377c2")
UNCLASSED_COLOUR = "#5a6b73"
INTERVAL_ALPHA = 0.2
DETECTOR_COLOURS = ("#0b6e8a", "#8a3ffc", "#d2691e", "#2e8b57", "#c71585")
# (A template name would only mean something to the Python package; plotly.js gets plain layout values.)
BASE_LAYOUT = {"margin": {"l": 56, "r": 16, "t": 36, "b": 40}, "paper_bgcolor": "#fff", "plot_bgcolor": "#fff",
               "font": {"family": "system-ui, sans-serif", "size": 12}}


def typed_array(values: np.ndarray, dtype: str = "f4") -> dict:
    """A plotly.js typed-array spec: {"dtype", "bdata"} with the values little-endian, base64-encoded."""
    array = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def decode_typed_array(spec: dict) -> np.ndarray:
    """The inverse of `typed_array` (tests and exports read figures back with it)."""
    if not isinstance(spec, dict):
        return np.asarray(spec)
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]).newbyteorder("<"))


def figure_json(figure: dict) -> str:
    """JSON text of a figure dict; numpy arrays go as typed arrays, other numpy scalars as numbers."""
    return json.dumps(_encode_arrays(figure), cls=PlotlyJSONEncoder, separators=(",", ":"))


def _encode_arrays(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.ndim == 1:
        return typed_array(value, "f4" if value.dtype.kind == "f" else "i4")
    if isinstance(value, dict):
        return {k: _encode_arrays(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_arrays(v) for v in value]
    return value


def envelope(times: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max per bucket so that at most `max_points` points draw the same outline as all of them.

    Each bucket of consecutive samples contributes its minimum and its maximum, in time order, so that no
    peak (an anomaly) is lost when a 2-hour series meets a 1,500-pixel-wide plot.
    """
    times, values = np.asarray(times), np.asarray(values)
    if len(values) <= max_points:
        return times, values
    size = -(-len(values) // max(1, max_points // 2))  # samples per bucket
    buckets = -(-len(values) // size)
    pad = buckets * size - len(values)
    grid = np.pad(values, (0, pad), mode="edge").reshape(buckets, size)
    lo, hi = grid.argmin(axis=1), grid.argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    base = np.arange(buckets) * size
    index = np.minimum(np.stack([base + first, base + second], axis=1).ravel(), len(values) - 1)
    return times[index], values[index]


NOT_COMPARED_COLOURS = {"no reference": "#9aa3a8", "alignment failed": "#f0a04b"}


def rgba(colour: str, alpha: float) -> str:
    """'#rrggbb' with an opacity, as plotly.js takes it."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha:g})"


def class_colours(classes) -> dict[str, str]:
    """A colour for each labelled class (the empty class included), in order of first appearance."""
    colours, named = {}, 0
    for name in classes:
        if name in colours:
            continue
        if name:
            colours[name] = CLASS_COLOURS[named % len(CLASS_COLOURS)]
            named += 1
        else:
            colours[name] = UNCLASSED_COLOUR
    return colours


def event_band_fill(colour: str | None, review: str) -> str:
    return rgba(colour or NO_LEVEL_COLOUR, REVIEW_ALPHA.get(review, REVIEW_ALPHA["unreviewed"]))


def timeline_figure(tracks: list[dict], *, intervals=(), events=(), duration: float | None = None,
                    max_points: int = 3000) -> dict:
    """The review timeline: one row per detector, frame scores (min/max envelope), segment scores as steps,
    the threshold as a line, labelled intervals shaded over all rows in their class's colour and named at the
    top, events shaded in their row in their level's colour (filled more when confirmed, less when dismissed).

    tracks: [{"name", "kind", "times", "scores", "threshold", "segment_bounds" (S, 2) | None,
    "segment_scores" (S,) | None, "not_compared" [{"start", "end", "name"}] (CHANGE)}]; intervals: [(start, end, class)];
    events: [{"row", "start", "end", "review", "id", "peak_time", "peak_score", "colour" ('#rrggbb' of its level,
    None when it has none)}] (peaks are also drawn as markers, labelled with the event's number).
    """
    rows = max(1, len(tracks))
    gap = 0.06 if rows > 1 else 0.0
    height = (1.0 - gap * (rows - 1)) / rows
    layout = {**BASE_LAYOUT, "height": 140 + 150 * rows, "hovermode": "x", "showlegend": True, "dragmode": "zoom",
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
              "margin": {**BASE_LAYOUT["margin"], "t": 48}, "uirevision": "timeline"}
    data, shapes = [], []
    for row, track in enumerate(tracks):
        axis = "" if row == 0 else str(row + 1)
        top = 1.0 - row * (height + gap)
        layout[f"yaxis{axis}"] = {"domain": [max(0.0, top - height), top], "title": {"text": track["name"]},
                                  "fixedrange": True, "zeroline": False}
        colour = DETECTOR_COLOURS[row % len(DETECTOR_COLOURS)]
        x, y = envelope(track["times"], track["scores"], max_points)
        data.append({"type": "scattergl", "mode": "lines", "name": f"{track['name']} frames", "x": x, "y": y,
                     "xaxis": "x", "yaxis": f"y{axis}", "line": {"color": colour, "width": 1}, "meta": {"role": "frames", "row": row},
                     "hovertemplate": "%{x:.1f}s score %{y:.3f}<extra></extra>"})
        if track.get("segment_scores") is not None:
            bounds = np.asarray(track["segment_bounds"], dtype=np.float64)
            seg = np.asarray(track["segment_scores"], dtype=np.float64)
            data.append({"type": "scatter", "mode": "lines", "name": f"{track['name']} segments",
                         "x": np.append(bounds[:, 0], bounds[-1, 1]), "y": np.append(seg, seg[-1]),
                         "line": {"shape": "hv", "color": colour, "width": 2, "dash": "dot"},
                         "xaxis": "x", "yaxis": f"y{axis}", "hoverinfo": "skip"})
        if track.get("threshold") is not None:
            shapes.append({"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": f"y{axis}",
                           "y0": track["threshold"], "y1": track["threshold"], "name": "threshold",
                           "line": {"color": "#b3261e", "width": 1, "dash": "dash"}})
        for span in track.get("not_compared") or ():
            # A band along the bottom of the row: frames a CHANGE detector could not compare (never alarms).
            shapes.append({"type": "rect", "xref": "x", "x0": span["start"], "x1": span["end"],
                           "yref": f"y{axis} domain", "y0": 0, "y1": 0.12, "line": {"width": 0}, "layer": "below",
                           "fillcolor": NOT_COMPARED_COLOURS.get(span["name"], "#9aa3a8"),
                           "name": span["name"].replace(" ", "-")})
    for row in range(len(tracks)):
        data.extend(_peak_markers([e for e in events if e["row"] == row and "peak_time" in e], row))
    colours = class_colours(c for _, _, c in intervals)
    for start, end, anomaly_class in intervals:
        colour = colours[anomaly_class]
        shapes.append({"type": "rect", "xref": "x", "x0": start, "x1": end, "yref": "paper", "y0": 0, "y1": 1,
                       "fillcolor": rgba(colour, INTERVAL_ALPHA), "line": {"width": 1, "color": rgba(colour, 0.6)},
                       "layer": "below", "name": "label",
                       "label": {"text": anomaly_class or "anomalous", "textposition": "top left",
                                 "font": {"size": 11, "color": colour}}})
    for event in events:
        axis = "" if event["row"] == 0 else str(event["row"] + 1)
        shapes.append({"type": "rect", "xref": "x", "x0": event["start"], "x1": max(event["end"], event["start"] + 0.5),
                       "yref": f"y{axis} domain", "y0": 0, "y1": 1, "line": {"width": 0}, "layer": "below",
                       "fillcolor": event_band_fill(event.get("colour"), event["review"]),
                       "name": f"event-{event.get('id', '')}"})
    # The playback cursor is the last shape; the page's script moves it.
    shapes.append({"type": "line", "xref": "x", "x0": 0, "x1": 0, "yref": "paper", "y0": 0, "y1": 1,
                   "line": {"color": "#111", "width": 1.5}, "name": "cursor"})
    x_range = [0, duration] if duration else None
    layout["xaxis"] = {"title": {"text": "seconds"}, "anchor": f"y{'' if rows == 1 else rows}",
                       "showspikes": True, "spikemode": "across", "spikethickness": 1}
    if x_range:
        layout["xaxis"]["range"] = x_range
    layout["shapes"] = shapes
    return {"data": data, "layout": layout}


def _peak_markers(events: list[dict], row: int) -> list[dict]:
    """An event's peak as a marker in its level's colour, outlined by its review, with its number above: a
    6-second event is under a pixel wide on a 2-hour axis, a marker is not."""
    if not events:
        return []
    axis = "" if row == 0 else str(row + 1)
    reviews = [e["review"] for e in events]
    return [{"type": "scatter", "mode": "markers+text", "name": "events", "showlegend": False,
             "x": [e["peak_time"] for e in events], "y": [e["peak_score"] for e in events],
             "customdata": [e["id"] for e in events], "xaxis": "x", "yaxis": f"y{axis}",
             "hovertext": [f"#{e['id']} level {e.get('level_text', '–')}" for e in events],
             "text": [f"#{e['id']}" for e in events], "textposition": "top center", "textfont": {"size": 10},
             "cliponaxis": False,
             "marker": {"symbol": "triangle-down", "size": 12,
                        "color": [e.get("colour") or NO_LEVEL_COLOUR for e in events],
                        "opacity": [REVIEW_OPACITY.get(r, 1.0) for r in reviews],
                        "line": {"color": [REVIEW_OUTLINE.get(r, REVIEW_OUTLINE["unreviewed"])["color"] for r in reviews],
                                 "width": [REVIEW_OUTLINE.get(r, REVIEW_OUTLINE["unreviewed"])["width"] for r in reviews]}},
             "meta": {"role": "events", "row": row},
             "hovertemplate": "event %{hovertext}: score %{y:.3f} at %{x:.1f}s<extra></extra>"}]


def event_strip_figure(videos: list[dict]) -> dict:
    """Where events fall in each video: one row per video, a bar per event in its level's fixed colour
    (webapp.detectors.levels: the same colours on every page, never rescaled per mission); the raw score is in
    the hover text.

    videos: [{"name", "duration", "events": [{"start", "end", "level", "peak_score", "detector", "url"}]}].
    """
    names, base, width, colours, hovers, urls = [], [], [], [], [], []
    for video in videos:
        # Lowest level first: where two detectors' events overlap, the hotter bar is drawn on top.
        for event in sorted(video["events"], key=lambda e: -math.inf if e["level"] is None else e["level"]):
            names.append(video["name"])
            base.append(event["start"])
            width.append(max(event["end"] - event["start"], 1.0))
            colours.append(level_colour(event["level"]))
            hovers.append(f"level {level_text(event['level'])} · {event.get('detector', '')} score "
                          f"{event['peak_score']:.3f}")
            urls.append(event.get("url", ""))
    longest = max([v["duration"] or 0 for v in videos] + [1.0])
    data = [{"type": "bar", "orientation": "h", "y": names, "x": width, "base": base, "customdata": urls,
             "marker": {"color": colours, "line": {"color": "#1d2428", "width": 0.5}}, "text": hovers,
             "textposition": "none", "hovertemplate": "%{y}<br>%{base:.1f} s, %{text}<extra></extra>"}]
    # Invisible points keep a row for videos without events.
    data.append({"type": "scatter", "mode": "markers", "y": [v["name"] for v in videos],
                 "x": [0] * len(videos), "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False})
    layout = {**BASE_LAYOUT, "height": max(200, 100 + 30 * len(videos)), "showlegend": False, "bargap": 0.35,
              "xaxis": {"title": {"text": "seconds into the video"}, "range": [0, longest]},
              "yaxis": {"type": "category", "categoryorder": "array",
                        "categoryarray": [v["name"] for v in videos][::-1], "automargin": True}}
    return {"data": data, "layout": layout}


def training_curve_figure(curve: list[dict]) -> dict:
    """Loss per epoch: train and, where recorded, validation."""
    epochs = [point.get("epoch", i) for i, point in enumerate(curve)]
    data = []
    for key, name in (("train_loss", "train"), ("val_loss", "validation")):
        values = [point.get(key) for point in curve]
        if any(v is not None for v in values):
            data.append({"type": "scatter", "mode": "lines+markers", "name": name, "x": epochs, "y": values})
    layout = {**BASE_LAYOUT, "height": 300, "xaxis": {"title": {"text": "epoch"}},
              "yaxis": {"title": {"text": "loss"}, "type": "log" if _spans_decades(data) else "linear"}}
    return {"data": data, "layout": layout}


def _spans_decades(data: list[dict]) -> bool:
    values = [v for trace in data for v in trace["y"] if v is not None and v > 0]
    return bool(values) and max(values) / min(values) > 100


def roc_figure(curves: list[dict]) -> dict:
    """ROC curves, one per detector: [{"name", "fpr", "tpr", "frame_auc"}], with the chance diagonal."""
    data = [{"type": "scatter", "mode": "lines", "name": _with_score(c["name"], "AUC", c.get("frame_auc")),
             "x": c["fpr"], "y": c["tpr"], "line": {"color": DETECTOR_COLOURS[i % 5], "width": 2}} for i, c in enumerate(curves)]
    data.append({"type": "scatter", "mode": "lines", "name": "chance", "x": [0, 1], "y": [0, 1],
                 "line": {"dash": "dot", "color": "#999"}, "hoverinfo": "skip"})
    return {"data": data, "layout": {**BASE_LAYOUT, "height": 340, "title": {"text": "ROC"},
                                     "xaxis": {"title": {"text": "false positive rate"}, "range": [0, 1]},
                                     "yaxis": {"title": {"text": "true positive rate"}, "range": [0, 1.02]}}}


def pr_figure(curves: list[dict]) -> dict:
    """Precision-recall curves: [{"name", "curve_recall", "curve_precision", "frame_ap"}]."""
    data = [{"type": "scatter", "mode": "lines", "name": _with_score(c["name"], "AP", c.get("frame_ap")),
             "x": c["curve_recall"], "y": c["curve_precision"], "line": {"shape": "hv", "color": DETECTOR_COLOURS[i % 5], "width": 2}}
            for i, c in enumerate(curves)]
    return {"data": data, "layout": {**BASE_LAYOUT, "height": 340, "title": {"text": "Precision-recall"},
                                     "xaxis": {"title": {"text": "recall"}, "range": [0, 1]},
                                     "yaxis": {"title": {"text": "precision"}, "range": [0, 1.02]}}}


def with_threshold_marker(figure: dict, x: float | None, y: float | None) -> dict:
    """`figure` (ROC or PR) with a marker where the threshold the page shows sits on its curve; the detector
    page's slider moves it (the trace with meta role "threshold")."""
    marker = {"type": "scatter", "mode": "markers", "name": "threshold", "x": [x], "y": [y], "meta": {"role": "threshold"},
              "cliponaxis": False,
              "marker": {"symbol": "circle", "size": 12, "color": "#b3261e", "line": {"color": "#fff", "width": 2}},
              "hovertemplate": "threshold: (%{x:.3f}, %{y:.3f})<extra></extra>"}
    return {**figure, "data": [*figure["data"], marker]}


def _with_score(name: str, label: str, value) -> str:
    return f"{name} ({label} {value:.3f})" if value is not None else name


def confusion_figure(counts: dict[str, int], *, title: str = "Confusion at the threshold") -> dict:
    """2x2 matrix in the origin report's layout: rows true anomaly/normal, columns predicted anomaly/normal."""
    z = [[counts["tp"], counts["fn"]], [counts["fp"], counts["tn"]]]
    data = [{"type": "heatmap", "z": z, "x": ["predicted anomaly", "predicted normal"],
             "y": ["true anomaly", "true normal"], "colorscale": [[0, "#f4f8fa"], [1, "#7fb8cc"]], "showscale": False,
             "text": [[str(v) for v in row] for row in z], "texttemplate": "%{text}",
             "hovertemplate": "%{y}, %{x}: %{z}<extra></extra>"}]
    return {"data": data, "layout": {**BASE_LAYOUT, "height": 300, "title": {"text": title},
                                     "yaxis": {"autorange": "reversed", "automargin": True},
                                     "xaxis": {"automargin": True}}}


def class_scores_figure(per_class: dict[str, list[float]], *, threshold: float | None) -> dict:
    """Video scores (each video's maximum) grouped by anomaly class, as the origin report's Figure 5."""
    data = [{"type": "box", "name": name, "y": scores, "boxpoints": "all", "jitter": 0.4, "pointpos": 0}
            for name, scores in per_class.items()]
    shapes = []
    if threshold is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": threshold, "y1": threshold,
                       "line": {"color": "#b3261e", "dash": "dash"}})
    return {"data": data, "layout": {**BASE_LAYOUT, "height": 340, "showlegend": False, "shapes": shapes,
                                     "title": {"text": "Video scores per anomaly class"},
                                     "yaxis": {"title": {"text": "max frame score"}}}}


def comparison_figure(rows: list[dict]) -> dict:
    """Detectors side by side on the same videos: grouped bars of AUC, AP and F1. rows: [{"name", metrics...}]."""
    metrics = ("frame_auc", "frame_ap", "f1", "precision", "recall")
    data = [{"type": "bar", "name": row["name"], "x": list(metrics),
             "y": [row.get(m) for m in metrics]} for row in rows]
    return {"data": data, "layout": {**BASE_LAYOUT, "height": 320, "barmode": "group",
                                     "title": {"text": "On the same videos"}, "yaxis": {"range": [0, 1]}}}
