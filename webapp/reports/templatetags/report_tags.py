"""Template helpers of the reports: the plotly.js script tag and time formatting."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from webapp.detectors import levels
from webapp.reports.plotlyjs import plotly_js_url

register = template.Library()


@register.simple_tag
def plotly_script():
    return format_html('<script src="{}"></script>', plotly_js_url())


@register.filter
def clock(seconds) -> str:
    """Seconds as h:mm:ss (or m:ss under an hour)."""
    if seconds is None:
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.simple_tag
def json_data(text: str, element_id: str):
    """A JSON text (already encoded, e.g. a figure with typed arrays) in a non-executable script element.

    <, > and & are escaped as json_script does, so no string inside can close the element."""
    safe = str(text).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return format_html('<script type="application/json" id="{}">{}</script>', element_id, mark_safe(safe))


@register.filter
def metric(value) -> str:
    """A metric for a table: floats to 4 digits, None as n/a, nested values as compact JSON."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


@register.filter(name="level_colour")
def level_colour_filter(level) -> str:
    """The fixed colour of a level (webapp.detectors.levels), high = hot."""
    return levels.level_colour(level)


@register.filter(name="level_text")
def level_text_filter(level) -> str:
    return levels.level_text(level)
