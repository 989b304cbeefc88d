"""Plain JSON from numpy values, for what pipelines write to JSON fields and files (Job.result, metrics)."""

from __future__ import annotations

import math

import numpy as np


def jsonable(value):
    """Plain JSON values: numpy scalars and arrays become numbers and lists, NaN and infinities None."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
