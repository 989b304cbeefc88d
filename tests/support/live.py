"""A live mission's pieces for tests: a tiny CAE trained on a normal flight, flights with and without a box, and a
tiny CHANGE detector trained as the app trains one, on ingested flights of one route."""

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


def route_flight(path: Path, *, seconds: float, start: float = 0.0, box_from: float | None = None) -> Path:
    """A 160x120, 10 fps H.264 flight along the textured route of tests.support.videos.route_scene, a keyframe
    every second; a white box from `box_from` on."""
    from tests.support.videos import route_scene

    return make_video(path, seconds=seconds, fps=10, width=160, height=120, gop=10, box_from=box_from,
                      box=(60, 40, 24), scene=route_scene(160, 120, start=start))


def trained_change(folder: Path) -> Detector:
    """A CHANGE detector of the area "Harbour", active, trained by the training pipeline (run here) on two calm
    flights of the route (the newer is its reference) and one where a box appears at 2 s (its validation)."""
    from tests.support.jobs import ingest_job, uploaded_video
    from webapp.catalog.models import LabelInterval, Video
    from webapp.jobs.models import Job
    from workers.claim import run_job
    from workers.ingest import run_ingest
    from workers.training import run_training

    for name, seconds, start, box_from, label in (("calm-1.mp4", 4.0, -3, None, "normal"),
                                                  ("calm-2.mp4", 9.0, 4, None, "normal"),
                                                  ("boat.mp4", 4.0, 0, 2.0, "anomalous")):
        video = uploaded_video(route_flight(folder / name, seconds=seconds, start=start, box_from=box_from), name)
        assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
        Video.objects.filter(pk=video.pk).update(label=label)
        if box_from is not None:
            LabelInterval.objects.create(video=video, start=box_from, end=seconds)
    area = Area.objects.get(name="Harbour")
    detector = Detector.objects.create(area=area, kind="change", name="route change", config={"references": 1},
                                       is_active=True)
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=train.pk).error
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY
    return detector
