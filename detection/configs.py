"""Detector configs, handled the same way for every kind: presets, overrides by field name, saved configs.

A kind's config is a frozen dataclass that checks itself in `__post_init__`, with named presets. The
`overrides` its trainer takes are {field: value} plus keys that are no field of it:
- "config": the preset to start from (default "default");
- run options, which the trainer takes out itself: "device" for every kind (where to train: cpu, cuda,
  cuda:1; default CUDA when present), "epochs" for MIL (a length in passes over the bags, turned into
  steps once the bags are counted). The device belongs to the machine that runs a detector, not to the
  detector, so no detector file holds one: whoever loads a file picks their own.
`make_config` is the one way every kind applies overrides. Values are converted to the field's type, so
"3" from a command line, 3 from JSON and 3.0 give the same config, and `None` means "not set" wherever a
field may be unset (no `0` or `""` standing for someone else's default).

Renamed fields: a kind lists its old names and old "not set" values in a `Legacy` table. A detector file
saved under them loads as it did (`from_saved`); an override under an old name still applies, with a
FutureWarning that names the new key, so Detector rows and scripts written before a rename keep training
and say what to change.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

Config = TypeVar("Config")

RUN_OPTIONS = ("device",)  # every kind's; a kind may add its own
PRESET_KEY = "config"


@dataclass(frozen=True)
class Legacy:
    """A kind's old config vocabulary. `renamed`: {old key: new key}; `unset`: {key: the value that meant
    "not set" before None did}; `dropped`: old keys with no field now, ignored in saved files."""

    renamed: Mapping[str, str] = field(default_factory=dict)
    unset: Mapping[str, Any] = field(default_factory=dict)
    dropped: frozenset[str] = frozenset()


NO_LEGACY = Legacy()


def upgrade(values: Mapping[str, Any], legacy: Legacy, *, kind: str) -> tuple[dict, list[str]]:
    """(values under today's names and "not set" values, one note per old name or value met)."""
    upgraded, notes = {}, []
    for key, value in values.items():
        if key in legacy.renamed:
            new = legacy.renamed[key]
            if new in values:
                raise ValueError(f"{kind} settings {key!r} and {new!r} are the same setting; give only {new!r}")
            notes.append(f"{kind} setting {key!r} is now called {new!r}")
            key = new
        if key in legacy.unset and value is not None and value == legacy.unset[key]:
            notes.append(f"{kind} setting {key}={value!r} meant 'not set': leave it out (None) instead")
            value = None
        upgraded[key] = value
    return upgraded, notes


def make_config(
    presets: Mapping[str, Config],
    overrides: Mapping[str, Any] | None,
    *,
    kind: str,
    legacy: Legacy = NO_LEGACY,
    run_options: tuple[str, ...] = RUN_OPTIONS,
) -> Config:
    """The preset `overrides["config"]` names (default "default") with the other overrides applied by name.

    Run options are left out (they are the trainer's). Old names and values are applied with a FutureWarning
    naming the new key; unknown keys and values of the wrong type are a ValueError that names them.
    """
    values = {key: value for key, value in (overrides or {}).items() if key not in run_options}
    preset = values.pop(PRESET_KEY, None) or "default"
    if preset not in presets:
        raise ValueError(f"unknown {kind} preset {preset!r}; presets: {', '.join(presets)}")
    values, notes = upgrade(values, legacy, kind=kind)
    for note in notes:
        warnings.warn(f"{note}; the old form will stop working", FutureWarning, stacklevel=3)
    base = presets[preset]
    return dataclasses.replace(base, **typed(type(base), values, kind=kind))


def from_saved(cls: type[Config], values: Mapping[str, Any], *, kind: str, legacy: Legacy = NO_LEGACY) -> Config:
    """A config as a detector file holds it: old names and values mapped silently, `device` and dropped keys
    left out, fields the file lacks at their defaults."""
    kept = {key: value for key, value in values.items() if key != "device" and key not in legacy.dropped}
    upgraded, _ = upgrade(kept, legacy, kind=kind)
    return cls(**typed(cls, upgraded, kind=kind))


def typed(cls: type, values: Mapping[str, Any], *, kind: str) -> dict:
    """`values` converted to the types of `cls`'s fields; ValueError names unknown keys and bad values."""
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ValueError(f"unknown {kind} settings: {', '.join(unknown)}; known: {', '.join(sorted(hints))}")
    return {key: _convert(hints[key], value, name=f"{kind} setting {key}") for key, value in values.items()}


def _convert(hint: str, value: Any, *, name: str) -> Any:
    """`value` as the type a field's annotation names (annotations are strings under `from __future__`)."""
    optional = hint.endswith(" | None")
    base = hint.removesuffix(" | None")
    if value is None:
        if optional:
            return None
        raise ValueError(f"{name} must be set (it has no 'not set' value)")
    try:
        if base == "bool":
            return _as_bool(value)
        if base == "int":
            return _as_int(value)
        if base == "float":
            return float(value)
        if base == "str":
            return str(value)
        if base.startswith("tuple[int"):
            parts = value.split(",") if isinstance(value, str) else value
            return tuple(_as_int(part) for part in parts)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r}: expected {base}") from exc
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes"):
            return True
        if lowered in ("0", "false", "no"):
            return False
        raise ValueError(value)
    if value in (0, 1):
        return bool(value)
    raise ValueError(value)


def _as_int(value: Any) -> int:
    if isinstance(value, str):
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)
