"""The deterministic train/val/test split of a manifest's videos: by video, stratified by label, seeded.

Only videos without a split get one; each label group (normal, anomalous, unlabelled) is shared out by the
fractions, in an order fixed by a hash of (seed, video id), so the answer does not depend on row order.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from detection.types import VideoRecord

SPLIT_NAMES = ("train", "val", "test")


def assign_splits(records: list[VideoRecord], *, seed: int = 0,
                  fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> list[VideoRecord]:
    """The records, in their order, with every empty split filled.

    Within each label, counts follow `fractions` (largest remainders); a group of three or more videos
    gets at least one validation and one test video when those fractions are not zero.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be three non-negative numbers (train, val, test), got {fractions}")
    chosen: dict[int, str] = {}
    for label in sorted({r.label for r in records}):
        members = [i for i, r in enumerate(records) if r.label == label and not r.split]
        members.sort(key=lambda i: _order_key(seed, records[i]))
        counts = _counts(len(members), fractions)
        names = [name for name, count in zip(SPLIT_NAMES, counts) for _ in range(count)]
        chosen.update(zip(members, names))
    return [replace(r, split=chosen[i]) if i in chosen else r for i, r in enumerate(records)]


def _order_key(seed: int, record: VideoRecord) -> str:
    name = record.video_id or str(record.path)
    return hashlib.sha256(f"{seed}\0{name}".encode()).hexdigest()


def _counts(n: int, fractions: tuple[float, float, float]) -> list[int]:
    total = sum(fractions)
    exact = [n * f / total for f in fractions]
    counts = [int(e) for e in exact]
    by_remainder = sorted(range(3), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in by_remainder[: n - sum(counts)]:
        counts[k] += 1
    if n >= 3:
        for k in (1, 2):
            if fractions[k] > 0 and counts[k] == 0:
                donor = max(range(3), key=lambda j: counts[j])
                counts[donor] -= 1
                counts[k] += 1
    return counts
