"""What each preset generates: frame size, length, world size, and the list of patrol videos per dataset.

- `tiny`: a few 3-second 96x96 videos, for tests (seconds to generate).
- `demo`: one area, ten days at 320x240, 10 fps, 24 s: normal and anomalous training days (the CAE learns
  from the normal ones, MIL needs both), a validation pair, a test day with a sudden light change (a hard
  normal) and a test day full of anomalies.
- `benchmark`: the origin report's two settings over one area, each with its own manifest:
  `d1/` anomalies are frames of another environment or of wrong colour; `d2/` the area flown from several
  angles and altitudes with objects edited in (every object class in validation and test). Each setting's
  train split holds normal patrols and a few anomalous ones (MIL needs both; the CAE uses normal frames only).
- `patrol`: drone resolution (1280x720, 60 s, 4 fps, H.264 at a drone's bitrate with a keyframe every 2 s):
  one area flown on many days along the same route at the same ground speed, each flight with a DJI `.SRT`
  sidecar. Boats moored at a jetty, cars parked at a cottage and a buoy are there every day (normal); new
  objects are anomalies, and so is a moored boat gone (`vanished`). Every class in validation and test; the
  train split holds 8 normal flights and 2 anomalous afternoon flights (for MIL), every class among them.
- `patrol_bench`: 12 of `patrol`'s 16 flights, each byte-identical to its copy in `patrol` (same seed): 4 of the
  8 normal training flights, every other flight. `bench/accuracy.sh` runs it (fewer flights, not a smaller frame).
- `patrol_tiny`: the same at 320x180 for 4 s over five flights, for tests.

The demo preset also writes a DJI `.SRT` sidecar per flight (`sidecars`); so do the patrol presets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from detection.synth.anomalies import FRAME_CLASSES, OBJECT_CLASSES


@dataclass(frozen=True)
class VideoPlan:
    """One video: its path relative to its dataset folder, split, anomaly classes and the day's quirks."""

    path: str
    split: str
    classes: tuple[str, ...] = ()
    heavy_clouds: bool = False
    light_change: bool = False
    heading: float = 0.0  # degrees added to the camera heading
    altitude: float = 1.0
    reverse: bool = False
    size_scale: float = 1.0  # multiplies the objects' size ranges (anomalies.SIZE_RANGES)
    day: int = 0  # day of the season: the sidecar's date; patrol presets: also the season's vegetation tint
    hours_later: float = 0.0  # take-off this many hours after the day's usual time (a second flight that day)


@dataclass(frozen=True)
class DatasetPlan:
    folder: str  # "" for the output folder itself, else a subfolder with its own manifest.csv
    videos: tuple[VideoPlan, ...]


@dataclass(frozen=True)
class AreaSettings:
    """Where a patrol preset's area lies on the globe, and the camera that turns a footprint into an altitude."""

    origin: tuple[float, float] = (59.4213, 18.8842)  # latitude, longitude of the world's centre (Stockholm archipelago)
    metres_per_px: float = 0.25  # metres per world pixel
    hfov_degrees: float = 82.1  # horizontal field of view (a DJI 24 mm-equivalent lens)
    takeoff_abs_alt: float = 4.0  # metres above sea level of the take-off point (abs_alt = rel_alt + this)
    first_day: str = "2026-06-01T09:30:00"  # day 1's take-off, local time as the .SRT writes it
    days_apart: int = 6  # days between consecutive day numbers
    season_days: int = 15  # day numbers spanning the season (early summer to early autumn) for the tint


@dataclass(frozen=True)
class Preset:
    name: str
    width: int
    height: int
    fps: int
    seconds: float
    world_size: int
    footprint: float  # world pixels across the frame width at nominal altitude
    datasets: tuple[DatasetPlan, ...]
    crf: int = 20
    area: AreaSettings | None = None  # set for patrol presets: fixtures, day looks, telemetry sidecars
    sidecars: bool = False  # write .SRT sidecars without the rest of a patrol preset (placed by AreaSettings())
    flights: tuple[str, ...] | None = None  # only these videos (by path), each rendered as in the full list
    keyint: int | None = None  # frames between keyframes; None: x264's default
    x264_preset: str = "veryfast"
    ripple_step: int = 1  # waves rendered every n-th pixel and interpolated (see render.Renderer)

    @property
    def needs_foreign_world(self) -> bool:
        return any("foreign_scene" in v.classes for d in self.datasets for v in d.videos)

    @property
    def geography(self) -> AreaSettings | None:
        """Where the area lies on the globe, for presets that write telemetry sidecars; None for the others."""
        return self.area if self.area is not None else AreaSettings() if self.sidecars else None

    def selected(self, plan: VideoPlan) -> bool:
        """Whether the video `plan` is generated (`flights` picks some of the preset's videos)."""
        return self.flights is None or plan.path in self.flights

    def with_overrides(self, **overrides) -> Preset:
        """A copy with `size` ("WxH" or (w, h)), `fps`, `seconds`, `world_size`, `footprint`, `crf` or `flights`
        (video paths, e.g. ("day01/patrol.mp4", ...): only those, each exactly as the full preset renders it)
        changed."""
        if "size" in overrides:
            size = overrides.pop("size")
            if size is not None:
                width, height = parse_size(size) if isinstance(size, str) else size
                overrides.update(width=int(width), height=int(height))
        known = {"width", "height", "fps", "seconds", "world_size", "footprint", "crf", "flights"}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown generator setting(s): {', '.join(sorted(unknown))}")
        if overrides.get("flights") is not None:
            overrides["flights"] = self._check_flights(overrides["flights"])
        changed = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        if changed.width % 2 or changed.height % 2 or changed.width < 16 or changed.height < 16:
            raise ValueError(f"frame size must be even and at least 16x16, got {changed.width}x{changed.height}")
        if changed.fps < 1 or changed.seconds <= 0:
            raise ValueError("fps must be at least 1 and seconds positive")
        return changed

    def _check_flights(self, flights) -> tuple[str, ...]:
        flights = tuple(flights)
        paths = [v.path for d in self.datasets for v in d.videos if self.selected(v)]
        unknown = [f for f in flights if f not in paths]
        if unknown or not flights:
            raise ValueError(f"preset {self.name!r} has no video {', '.join(unknown) or '(none given)'}; "
                             f"its videos: {', '.join(paths)}")
        for dataset in self.datasets:
            if dataset.videos and not any(v.path in flights for v in dataset.videos):
                raise ValueError(f"no video of {dataset.folder or 'the dataset'} is among the flights given")
        return flights


def parse_size(text: str) -> tuple[int, int]:
    """'320x240' -> (320, 240)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"bad frame size {text!r}: expected WIDTHxHEIGHT, e.g. 320x240") from None
    return width, height


def _days(first: int, count: int, split: str, **quirks) -> tuple[VideoPlan, ...]:
    return tuple(VideoPlan(f"day{n:02d}/patrol.mp4", split, day=n, **quirks) for n in range(first, first + count))


TINY = Preset(
    "tiny", 96, 96, 8, 3.0, world_size=512, footprint=200,
    datasets=(DatasetPlan("", (
        VideoPlan("day01/patrol.mp4", "train"),
        VideoPlan("day02/patrol.mp4", "val", heavy_clouds=True),
        VideoPlan("day03/patrol.mp4", "test", classes=("boat", "smoke")),
        VideoPlan("day04/patrol.mp4", "test", classes=("fire", "drone")),
    )),),
)

# The demo's flights carry DJI .SRT sidecars (`sidecars`), so its videos have poses as a real drone's would.
DEMO = Preset(
    "demo", 320, 240, 10, 24.0, world_size=1400, footprint=360, sidecars=True,
    datasets=(DatasetPlan("", (
        *_days(1, 2, "train"),
        VideoPlan("day03/patrol.mp4", "train", heavy_clouds=True, day=3),
        VideoPlan("day04/patrol.mp4", "train", day=4),
        VideoPlan("day05/patrol.mp4", "train", classes=("boat", "person"), day=5),
        VideoPlan("day06/patrol.mp4", "train", classes=("debris", "car"), day=6),
        VideoPlan("day07/patrol.mp4", "val", day=7),
        VideoPlan("day08/patrol.mp4", "val", classes=("boat", "person", "car"), day=8),
        VideoPlan("day09/patrol.mp4", "test", light_change=True, day=9),
        VideoPlan("day10/patrol.mp4", "test", classes=("boat", "drone", "debris", "fire", "smoke", "person"),
                  day=10),
    )),),
)

_D1 = DatasetPlan("d1", (
    *_days(1, 7, "train"),
    VideoPlan("day08/patrol.mp4", "train", heavy_clouds=True),
    *_days(9, 2, "val"),
    VideoPlan("day11/patrol.mp4", "val", classes=("foreign_scene",)),
    VideoPlan("day12/patrol.mp4", "val", classes=("colour",)),
    VideoPlan("day13/patrol.mp4", "test"),
    VideoPlan("day14/patrol.mp4", "test", light_change=True),
    VideoPlan("day15/patrol.mp4", "test", heavy_clouds=True),
    VideoPlan("day16/patrol.mp4", "test", classes=("foreign_scene",)),
    VideoPlan("day17/patrol.mp4", "test", classes=("colour",)),
    VideoPlan("day18/patrol.mp4", "test", classes=FRAME_CLASSES),
    VideoPlan("day19/patrol.mp4", "test", classes=("colour", "foreign_scene")),
    # Anomalous training days, for the weakly supervised MIL (it learns from video labels of both kinds); the
    # CAE trains on the frames outside their intervals. Appended last so that the days above keep their seeds.
    VideoPlan("day20/patrol.mp4", "train", classes=("foreign_scene",)),
    VideoPlan("day21/patrol.mp4", "train", classes=("colour",)),
    VideoPlan("day22/patrol.mp4", "train", classes=("colour", "foreign_scene")),
))


def _angle(n: int, split: str, **extra) -> VideoPlan:
    """Video n of the several-angles setting: heading turned by 45 degrees steps, altitude varied."""
    return VideoPlan(f"angle{n:02d}/patrol.mp4", split, heading=45.0 * (n % 8), altitude=0.9 + 0.05 * (n % 5),
                     reverse=bool(n % 2), **extra)


_D2 = DatasetPlan("d2", (
    *(_angle(n, "train") for n in range(8)),
    _angle(8, "val"), _angle(9, "val", heavy_clouds=True),
    _angle(10, "val", classes=("boat", "person", "car")),
    _angle(11, "val", classes=("drone", "debris")),
    _angle(12, "val", classes=("fire", "smoke")),
    _angle(13, "test"), _angle(14, "test", light_change=True), _angle(15, "test", heavy_clouds=True),
    _angle(16, "test", classes=("boat", "person")),
    _angle(17, "test", classes=("car", "drone")),
    _angle(18, "test", classes=("debris", "fire", "person"), size_scale=0.6),  # small
    _angle(19, "test", classes=("smoke", "boat", "person", "car"), size_scale=2.5),  # large
    _angle(20, "test", classes=OBJECT_CLASSES),
    # Anomalous training flights for MIL (see _D1), appended last to keep the seeds of the flights above.
    _angle(21, "train", classes=("boat", "person", "car")),
    _angle(22, "train", classes=("drone", "debris", "fire")),
    _angle(23, "train", classes=("smoke", "boat", "person")),
    _angle(24, "train", classes=OBJECT_CLASSES),
))

BENCHMARK = Preset("benchmark", 160, 120, 10, 20.0, world_size=1400, footprint=300, datasets=(_D1, _D2))



def _flight(day: int, split: str, *classes: str, afternoon: bool = False) -> VideoPlan:
    """A patrol flight on `day` of the season; the same route and speed every day, only the day differs. An
    `afternoon` flight is that day's second, `dayNN/afternoon.mp4`, taking off five hours after the first."""
    if afternoon:
        return VideoPlan(f"day{day:02d}/afternoon.mp4", split, classes=classes, day=day, hours_later=5.0)
    return VideoPlan(f"day{day:02d}/patrol.mp4", split, classes=classes, day=day)


# Train, validation and test days interleave over the season, so no split sees only one part of it.
_PATROL = DatasetPlan("", (
    *(_flight(day, "train") for day in (1, 2, 4, 5, 7, 9, 11, 13)),
    _flight(8, "val"),
    _flight(3, "val", "boat", "person", "car", "drone", "vanished"),
    _flight(10, "val", "debris", "fire", "smoke", "person", "boat"),
    _flight(12, "test"),
    _flight(6, "test", "person", "fire", "smoke", "car", "vanished"),
    _flight(14, "test", "boat", "drone", "debris", "person", "boat"),
    # Anomalous training flights, for the weakly supervised MIL (it learns from video labels of both kinds; the
    # CAE trains on the frames outside their intervals), every class among them. Second flights of two training
    # days in mid-season, so that no season's vegetation tint comes only with anomalies. Appended last so that
    # the flights above keep their seeds: they are byte-identical to the 14-flight preset's.
    _flight(5, "train", "boat", "person", "car", "debris", afternoon=True),
    _flight(11, "train", "drone", "fire", "smoke", "person", "vanished", afternoon=True),
))

PATROL = Preset("patrol", 1280, 720, 4, 60.0, world_size=3072, footprint=800, datasets=(_PATROL,), crf=16,
                area=AreaSettings(), keyint=8, x264_preset="ultrafast", ripple_step=2)

# The accuracy benchmark's patrol setting: half the normal training flights (days spread over the season),
# every validation, test and anomalous training flight, at the full preset's resolution and length.
PATROL_BENCH = replace(PATROL, name="patrol_bench", flights=tuple(
    plan.path for plan in _PATROL.videos if plan.split != "train" or plan.classes or plan.day in (1, 4, 9, 13)))

PATROL_TINY = Preset(
    "patrol_tiny", 320, 180, 4, 4.0, world_size=1024, footprint=260, crf=16, area=AreaSettings(), keyint=8,
    x264_preset="ultrafast",
    datasets=(DatasetPlan("", (
        _flight(1, "train"),
        _flight(2, "val", "boat", "vanished"),
        _flight(3, "test", "person", "vanished"),
        # Appended, as in `patrol`: an anomalous training flight (MIL) and a normal test flight (evaluate needs one).
        _flight(4, "train", "boat", "car", afternoon=True),
        _flight(5, "test"),
    )),),
)

PRESETS = {preset.name: preset for preset in (TINY, DEMO, BENCHMARK, PATROL, PATROL_BENCH, PATROL_TINY)}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
