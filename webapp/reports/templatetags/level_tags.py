"""The level's colour legend, one inclusion tag so every page that colours events by level explains it the same
way: `{% load level_tags %}{% level_legend %}`."""

from __future__ import annotations

from django import template

from webapp.detectors.levels import scale_for_pages

register = template.Library()


def _range(low: float | None, high: float | None) -> str:
    if low is None:
        return f"below {high:g}"
    return f"{low:g} and above" if high is None else f"{low:g} to {high:g}"


@register.inclusion_tag("reports/_level_legend.html")
def level_legend() -> dict:
    steps = scale_for_pages()
    highs = [step["from"] for step in steps[1:]] + [None]
    return {"steps": [{**step, "range": _range(step["from"], high)} for step, high in zip(steps, highs, strict=True)]}
