"""Files that appear whole or not at all: written under a temporary sibling name, then moved into place.

`os.replace` within one folder is atomic, so a reader (a page, another worker, a rerun) sees the old file or
the new one, never half of one. A writer killed midway leaves only its hidden temporary sibling
(`.<name>.<pid>-<token>.tmp`), which the next run of the same job sweeps (`workers.leftovers`). Every file the
library and the workers publish goes through `replacing`; streaming writers that stay open across calls (the
frame array, the proxy) take their temporary name from `temporary_name` and move it the same way on close.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_name(path: Path, suffix: str = "") -> Path:
    """A hidden sibling of `path`, unique to this process and call; `suffix` for writers that need an extension."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp{suffix}")


def temporaries_of(path: Path) -> str:
    """The glob pattern matching `path`'s temporary siblings (for sweeping a killed run's leftovers)."""
    return f".{Path(path).name}.*.tmp*"


@contextmanager
def replacing(path: Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary sibling of `path` to write; move it onto `path` if the block succeeds, else delete it.

        with replacing(folder / "model.pt") as staging:
            torch.save(payload, staging)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_name(path, suffix)
    try:
        yield staging
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """`path` holds `text` (UTF-8), written whole or not at all."""
    with replacing(path) as staging:
        staging.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: Path, data: bytes) -> Path:
    """`path` holds `data`, written whole or not at all."""
    with replacing(path) as staging:
        staging.write_bytes(data)
    return Path(path)
