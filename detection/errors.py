"""The domain errors of `detection`: each carries a message a user can act on."""

from __future__ import annotations

from pathlib import Path


class DetectionError(Exception):
    """Base class of every error `detection` raises on purpose."""


class VideoError(DetectionError):
    """A file that cannot be used as a video: not a video, no video stream, corrupt, unsupported, empty."""


class ManifestError(DetectionError):
    """A manifest with problems; `problems` lists each one with its line number."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DetectorFileError(DetectionError):
    """A detector file that is missing, corrupt or of another format version."""


class MissingWeightsError(DetectionError):
    """Pretrained weights that are not on this machine; the message names the file and how to get it."""


class TrainingDataError(DetectionError):
    """Training data that cannot train the asked detector (no normal videos, no anomalous ones, ...)."""


class TelemetryError(DetectionError):
    """A telemetry sidecar (DJI .SRT, GPX, CSV) that cannot be read; names the file and the first bad line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path, self.line = Path(path), line
        where = f"{self.path.name} line {line}" if line is not None else self.path.name
        super().__init__(f"{where}: {message}")
