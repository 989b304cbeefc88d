"""Plain JSON values from numpy ones: the one cleaning rule for metrics.json, curves.json, Job fields and the
metadata detector files carry.

numpy scalars and arrays become Python numbers and lists, tuples become lists and keys strings; NaN and
infinities become None (JSON has no NaN, and None is how the metrics say "no data"); any other object is
written as its str(). Pure Python and numpy: the web app may use it too.
"""

from __future__ import annotations

import json
import math

import numpy as np


def plain_json(value):
    """A copy of `value` made only of dicts, lists, str, int, float, bool and None (see the module docstring)."""
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return plain_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def json_text(value, **options) -> str:
    """`json.dumps` of `plain_json(value)`, refusing NaN so that nothing invalid can slip through."""
    return json.dumps(plain_json(value), allow_nan=False, **options)
