"""What a CHANGE score run stored for the compare view and the cards: each event peak's pair of images (today's
frame and the reference frame warped into today's view) and the per-frame alignment status, read with numpy."""

from __future__ import annotations

import numpy as np

from webapp.reports import images

FRAME_STATUS = {0: "ok", 1: "no reference", 2: "alignment failed"}
NOT_COMPARED = {1: "no-reference", 2: "alignment-failed"}  # css names of the statuses worth showing
CARD_WIDTH = 320  # the reference thumbnail of a report card (the page's and the standalone file's)


def peak_index(event) -> int | None:
    """The run's frame nearest the event's peak (where scoring kept the comparison), None without frames."""
    path = images.media_path(event.score_run.media_dir) / "scores.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        times = data["times"]
    return images.nearest_index(times, event.peak_time) if len(times) else None


def stored_pair(event, index: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(today (h, w, 3), reference warped into today's view (h, w, 3)) uint8 at the event's peak (frame `index`
    when the caller already knows it), or None."""
    from detection.score_store import load_comparison

    index = peak_index(event) if index is None else index
    if index is None:
        return None
    try:
        return load_comparison(images.media_path(event.score_run.media_dir), index)
    except (OSError, ValueError, KeyError):
        return None


def reference_thumbnail(event, width: int = CARD_WIDTH) -> np.ndarray | None:
    """The aligned reference frame at the event's peak, at most `width` wide; None when none was kept."""
    pair = stored_pair(event)
    return None if pair is None else images.fit_width(np.asarray(pair[1]), width)


def status_spans(times: np.ndarray, status: np.ndarray) -> list[dict]:
    """Runs of frames that were not compared, as [{"start", "end", "status", "name"}] in seconds; a run ends
    where the next frame starts (the last one half a frame step on)."""
    times, status = np.asarray(times, dtype=np.float64), np.asarray(status)
    if len(times) == 0:
        return []
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.5
    ends = np.append(times[1:], times[-1] + step)
    change = np.flatnonzero(np.diff(status.astype(np.int16))) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(status)]])
    return [{"start": float(times[a]), "end": float(ends[b - 1]), "status": int(status[a]),
             "name": FRAME_STATUS.get(int(status[a]), "unknown")}
            for a, b in zip(starts, stops, strict=True) if int(status[a]) in NOT_COMPARED]


def status_summary(status: np.ndarray) -> dict[str, int]:
    """How many frames had each status: {"ok", "no_reference", "alignment_failed"}."""
    status = np.asarray(status)
    return {name.replace(" ", "_"): int(np.count_nonzero(status == value)) for value, name in FRAME_STATUS.items()}


def on_strip(spans: list[dict], duration: float) -> list[dict]:
    """The spans with their place on a strip as CSS percentages of `duration` ("left", "width")."""
    return [{**span, "left": percent(span["start"], duration), "width": percent(span["end"] - span["start"], duration)}
            for span in spans]


def percent(seconds: float, duration: float) -> str:
    return f"{min(100.0, max(0.0, 100.0 * seconds / duration)) if duration > 0 else 0.0:.3f}"
