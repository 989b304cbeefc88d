"""The one JSON cleaning rule: numpy values to plain ones, NaN and infinities to null."""

import json
import math
from pathlib import Path

import numpy as np

from detection.json_values import json_text, plain_json


def test_numpy_values_become_plain_and_non_finite_numbers_null():
    value = {1: np.float32(0.5), "a": np.array([1, 2]), "t": (np.int64(3), math.nan), "inf": np.float64(np.inf),
             "ok": [True, None, "x"], "path": Path("a/b")}
    assert plain_json(value) == {"1": 0.5, "a": [1, 2], "t": [3, None], "inf": None, "ok": [True, None, "x"],
                                 "path": "a/b"}


def test_json_text_is_strict_json():
    assert json.loads(json_text({"auc": float("nan"), "x": np.float64(1.5)})) == {"auc": None, "x": 1.5}
