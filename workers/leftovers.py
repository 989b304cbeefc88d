"""Partial outputs of dead runs: every pipeline writes under a temporary name (a leading dot) and moves the
result into place; a run killed midway leaves its temporary names behind. The next run of the same job removes
them before it starts, so nothing half-written stays around. Only one run owns a job at a time (see claim.py),
so a leftover is never a live run's work in progress, or belongs to a run that can no longer publish."""

from __future__ import annotations

import shutil
from pathlib import Path


def remove_leftovers(folder: Path, pattern: str) -> list[str]:
    """Delete files and folders in `folder` matching `pattern` (a glob, e.g. ".ingest-*"); returns their names."""
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(pattern):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed
