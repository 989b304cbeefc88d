"""A MIL detector built on the area's CAE takes the area's active frame CAE instead of training its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tests.support.jobs import TINY_CAE
from tests.support.seed import make_mission
from webapp.detectors.models import Detector
from workers.training import training_overrides

pytestmark = pytest.mark.django_db


def ready_cae(area, name: str, config: dict | None = None, *, active: bool = True, write: bool = True) -> Detector:
    cae = Detector.objects.create(area=area, kind="cae", name=name, config=config or {}, is_active=active,
                                  status=Detector.Status.READY)
    cae.artifact = f"{cae.media_dir}/model.pt"
    cae.save()
    if write:
        path = Path(settings.MEDIA_ROOT) / cae.artifact
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"weights")
    return cae


def test_the_default_mil_takes_the_areas_active_frame_cae():
    area = make_mission().area
    ready_cae(area, "old", active=False)
    cae = ready_cae(area, "current")
    mil = Detector.objects.create(area=area, kind="mil", name="mil", config={"iterations": 50})
    overrides, note = training_overrides(mil)
    assert overrides == {"iterations": 50, "cae_detector": str(Path(settings.MEDIA_ROOT) / cae.artifact)}
    assert "“current”" in note


def test_a_mil_trained_for_epochs_from_the_form_still_takes_the_areas_cae():
    area = make_mission().area
    cae = ready_cae(area, "current")
    mil = Detector.objects.create(area=area, kind="mil", name="mil", config={"epochs": 5})  # the training form's
    overrides, _ = training_overrides(mil)
    assert overrides == {"epochs": 5, "cae_detector": str(Path(settings.MEDIA_ROOT) / cae.artifact)}


@pytest.mark.parametrize("config", [{"extractor": "mobilenet_v2"}, {"cae_epochs": 30}, {"cae_detector": "/x.pt"},
                                    {"extractor": "nonsense"}])
def test_it_is_left_alone_when_its_config_says_otherwise(config):
    area = make_mission().area
    ready_cae(area, "current")
    mil = Detector.objects.create(area=area, kind="mil", name="mil", config=config)
    assert training_overrides(mil) == (config, "")


def test_tiled_sequence_missing_or_other_areas_caes_are_not_taken():
    area = make_mission().area
    ready_cae(area, "tiled", {"tiled": True})
    ready_cae(area, "sequence", {"sequence_length": 3})
    ready_cae(area, "no file", write=False)
    ready_cae(make_mission("Other area").area, "elsewhere")
    mil = Detector.objects.create(area=area, kind="mil", name="mil")
    assert training_overrides(mil) == ({}, "")
    cae = Detector.objects.create(area=area, kind="cae", name="a cae itself", config={"epochs": 3})
    assert training_overrides(cae) == ({"epochs": 3}, "")


@pytest.mark.slow
def test_a_mil_trained_by_the_worker_carries_the_areas_cae(area_videos):  # noqa: F811 (the imported fixture)
    import torch

    from webapp.jobs.models import Job
    from workers.claim import run_job
    from workers.training import run_training

    area = area_videos[0].mission.area
    cae = Detector.objects.create(area=area, kind="cae", name="tiny", config=TINY_CAE, is_active=True)
    assert run_job(Job.objects.create(kind=Job.Kind.TRAIN, detector=cae).pk, run_training, worker="test") == "succeeded"
    cae.refresh_from_db()
    mil = Detector.objects.create(area=area, kind="mil", name="mil", is_active=True,
                                  config={"input_size": 64, "clip_len": 2, "iterations": 10, "feature_cache": "none"})
    job = Job.objects.create(kind=Job.Kind.TRAIN, detector=mil)
    assert run_job(job.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    mil.refresh_from_db()
    assert mil.status == Detector.Status.READY and mil.config == {
        "input_size": 64, "clip_len": 2, "iterations": 10, "feature_cache": "none"}  # the row keeps its own config
    cae_state = torch.load(Path(settings.MEDIA_ROOT) / cae.artifact, weights_only=True)
    mil_state = torch.load(Path(settings.MEDIA_ROOT) / mil.artifact, weights_only=True)
    cae_weights = {key: value for key, value in cae_state["state"].items()}
    carried = {key[len("extractor.cae."):]: value for key, value in mil_state["state"].items()
               if key.startswith("extractor.cae.")}
    assert carried and carried.keys() == cae_weights.keys()
    assert all(torch.equal(carried[key], cae_weights[key]) for key in carried)
