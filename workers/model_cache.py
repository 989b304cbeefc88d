"""Detectors loaded once per worker process: a small LRU cache keyed by (path, mtime, size).

A retrained detector replaces model.pt (new mtime), so the next job loads the new file; the old entry ages out.
`load_detector` puts the model on CUDA when present, else the CPU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

CAPACITY = 4

_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()
stats = {"hits": 0, "loads": 0}


def cached_detector(path: Path):
    from detection.detector_file import load_detector

    path = Path(path)
    info = path.stat()
    key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return _cache[key]
    detector = load_detector(path)
    with _lock:
        _cache[key] = detector
        stats["loads"] += 1
        for old in [k for k in _cache if k[0] == key[0] and k != key]:
            del _cache[old]
        while len(_cache) > CAPACITY:
            _cache.popitem(last=False)
    return detector


def clear() -> None:
    with _lock:
        _cache.clear()
