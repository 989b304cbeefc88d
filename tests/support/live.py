"""A live mission's pieces for tests: a tiny CAE trained on a normal flight, and flights with and without a box."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from tests.support.videos import make_video
from webapp.catalog.models import Area, Mission
from webapp.detectors.models import Detector

SIZE = 32  # the worker samples at this size (SKERRY_SAMPLE_SIZE) and the CAE takes it as is
BOX = (60, 40, 40)


def flight(path: Path, *, seconds: float, box_from: float | None = None, box_until: float | None = None,
           offset: int = 0) -> Path:
    """A 160x120, 10 fps H.264 flight with a keyframe every second; a white box from `box_from` to `box_until`."""
    from tests.support.videos import scene_frame

    def scene(index: int) -> np.ndarray:
        time = index / 10
        shown = box_from is not None and time >= box_from and (box_until is None or time < box_until)
        return scene_frame(index + offset, 160, 120, BOX if shown else None)

    return make_video(path, seconds=seconds, fps=10, width=160, height=120, gop=10, scene=scene)


def live_mission(name: str = "Live patrol") -> Mission:
    area, _ = Area.objects.get_or_create(name="Harbour")
    return Mission.objects.create(area=area, name=name, date=dt.date(2026, 6, 1))


def trained_cae(area: Area, folder: Path) -> Detector:
    """A tiny CAE trained here on a normal flight's frames, saved where a worker finds it, active in `area`."""
    from detection.cae.config import make_config
    from detection.cae.train import train_cae
    from detection.device import cpu_threads
    from detection.video.sampling import sample_frames

    normal = sample_frames(flight(folder / "normal.mp4", seconds=8.0), fps=10, size=(SIZE, SIZE)).frames
    boxed = sample_frames(flight(folder / "boxed.mp4", seconds=4.0, box_from=2.0, offset=80), fps=10,
                          size=(SIZE, SIZE)).frames
    config = make_config({"config": "default", "input_size": SIZE, "epochs": 15, "batch_size": 16, "widths": (8, 16)})
    with cpu_threads(1):
        model, _ = train_cae([np.asarray(normal)], [np.asarray(boxed)], [np.arange(len(boxed)) >= 20],
                             config=config, seed=0)
    detector = Detector.objects.create(area=area, kind="cae", name="live CAE", status=Detector.Status.READY,
                                       is_active=True, threshold=model.threshold, trained=timezone.now())
    artifact = f"{detector.media_dir}/model.pt"
    (Path(settings.MEDIA_ROOT) / artifact).parent.mkdir(parents=True, exist_ok=True)
    model.save(Path(settings.MEDIA_ROOT) / artifact)
    Detector.objects.filter(pk=detector.pk).update(artifact=artifact)
    detector.refresh_from_db()
    return detector
