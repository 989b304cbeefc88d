"""One scale for every detector kind: an event's level, and the one colour scale every page draws it with.

Scores of different kinds do not compare (the CAE's run from about -2 to 60, MIL's from 0 to 1), so pages
and filters use the level instead:

    level = (score - m) / (threshold - m)

where m is the median score of the detector's normal validation frames (`val_normal_median` in its
validation metrics). Level 1 is the detector's own threshold, so every event has a level of at least 1 and
"level >= 1" keeps exactly the events that passed their detector's threshold, whatever its kind; level 0 is a
typical normal frame; level 2 is twice as far above a typical frame as the threshold is. It is an affine map
per detector, so it keeps each detector's ranking. A calibrated probability was the alternative, but it needs
anomalous validation frames and the CAE usually has none (it trains and validates on normal flights only).
"""

from __future__ import annotations

import math

from detection.levels import to_level

# (lowest level, colour, name): one fixed scale, high = hot, the same on every page and never rescaled.
LEVEL_STEPS: tuple[tuple[float, str, str], ...] = (
    (-math.inf, "#9aa5b1", "below threshold"),
    (1.0, "#f2c94c", "at threshold"),
    (1.5, "#f2994a", "high"),
    (2.5, "#e0513a", "very high"),
    (4.0, "#9b1c31", "extreme"),
)
UNKNOWN_COLOUR = "#c8ced6"


def normal_median(detector) -> float | None:
    """The detector's typical normal score (None for detectors trained before it was recorded: level 0 is 0)."""
    value = (detector.validation_metrics or {}).get("val_normal_median")
    return None if value is None else float(value)


def level_of(detector, score: float | None, threshold: float | None = None) -> float | None:
    """`score` on the level scale of `detector` (at `threshold`, default its own); None when undefined."""
    return to_level(score, detector.threshold if threshold is None else threshold, normal_median(detector))


def level_step(level: float | None) -> tuple[float, str, str] | None:
    if level is None:
        return None
    return [step for step in LEVEL_STEPS if level >= step[0]][-1]


def level_colour(level: float | None) -> str:
    step = level_step(level)
    return UNKNOWN_COLOUR if step is None else step[1]


def level_text(level: float | None) -> str:
    """A level as people read it: '2.3×' (times the threshold's distance), '–' when unknown."""
    return "–" if level is None else f"{level:.1f}×"


def scale_for_pages() -> list[dict]:
    """The scale as JSON-ready rows for the pages' scripts and legends."""
    return [{"from": None if math.isinf(low) else low, "colour": colour, "name": name}
            for low, colour, name in LEVEL_STEPS]
