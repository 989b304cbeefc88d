"""The live scores written as they are computed, so that a worker killed mid-flight resumes without losing them.

Two append-only files in a folder: `samples.bin` (one record per scored frame: time float64, raw score float32,
live score float32)
and `heatmaps.bin` (its pooled error map, float16, of the shape in `heatmaps.json`). A kill can leave a record
half-written; `SampleLog` keeps only the records complete in both files and cuts the rest off.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RECORD = np.dtype([("time", "<f8"), ("raw", "<f4"), ("score", "<f4")])


def read_scores(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """(times, live scores) written so far, for a page: reads without repairing (the worker owns the files)."""
    path = Path(folder) / "samples.bin"
    if not path.exists():
        return np.zeros(0), np.zeros(0, np.float32)
    data = path.read_bytes()
    records = np.frombuffer(data[: len(data) // RECORD.itemsize * RECORD.itemsize], dtype=RECORD)
    return records["time"], records["score"]


class SampleLog:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._samples, self._maps = self.folder / "samples.bin", self.folder / "heatmaps.bin"
        shape_file = self.folder / "heatmaps.json"
        self.shape = tuple(json.loads(shape_file.read_text())) if shape_file.exists() else None
        self.times, self.raw, self.heatmaps = self._load()

    def _load(self):
        records = np.fromfile(self._samples, dtype=RECORD) if self._samples.exists() else np.zeros(0, RECORD)
        if self.shape is None:
            return records["time"][:0], records["raw"][:0], np.zeros((0, 1, 1), np.float16)
        cells = int(np.prod(self.shape))
        maps = np.fromfile(self._maps, dtype=np.float16) if self._maps.exists() else np.zeros(0, np.float16)
        count = min(len(records), len(maps) // cells)
        for path, size in ((self._samples, count * RECORD.itemsize), (self._maps, count * cells * 2)):
            if path.exists() and path.stat().st_size != size:
                with path.open("r+b") as handle:
                    handle.truncate(size)
        return records["time"][:count], records["raw"][:count], maps[: count * cells].reshape(count, *self.shape)

    @property
    def last_time(self) -> float | None:
        return float(self.times[-1]) if len(self.times) else None

    def append(self, time: float, raw: float, score: float, heatmap: np.ndarray) -> None:
        if self.shape is None:
            self.shape = tuple(int(n) for n in heatmap.shape)
            (self.folder / "heatmaps.json").write_text(json.dumps(self.shape))
        with self._maps.open("ab") as maps:
            maps.write(np.ascontiguousarray(heatmap, dtype=np.float16).tobytes())
        with self._samples.open("ab") as samples:
            samples.write(np.array([(time, raw, score)], dtype=RECORD).tobytes())
