"""In a real browser: the detector page's threshold slider. Wherever it is moved (by mouse or keyboard), the
tiles, the confusion matrix and the markers on the ROC and PR curves show `detection.evaluation.metrics`
computed here on the same score files at the threshold the slider shows; an admin then uses that threshold
(the rethreshold job runs in-process) and the page records who changed it. Full-page screenshot at 1440x900:
test-artifacts/detector-page.png."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse

from detection.cae.config import make_config
from detection.cae.model import build_model
from detection.cae.scoring import CAEDetector, normalisation_stats
from detection.evaluation import metrics
from detection.labels import frame_labels
from detection.score_store import load_video_scores
from detection.types import Interval
from tests.support.browser import log_in, screenshot, submit, wait_until
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, DetectorDecision, Event
from webapp.jobs.models import Job
from workers.claim import run_job
from workers.evaluation import run_evaluation
from workers.rethreshold import run_rethreshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


@pytest.fixture
def evaluated():
    """A CAE that scored two anomalous videos and a calm one, evaluated by the real job, with a model file."""
    mission = make_mission()
    seeded = [seed_scored_video(mission, name="reef.mp4", seconds=60, anomalies=((20.0, 26.0, "boat"),), seed=7),
              seed_scored_video(mission, name="harbour.mp4", seconds=40, anomalies=((8.0, 12.0, "person"),), seed=8),
              seed_scored_video(mission, name="calm.mp4", seconds=30, anomalies=(), label=Video.Label.NORMAL, seed=9)]
    detector = seeded[0].runs["cae"].detector
    config = make_config({"input_size": 32, "widths": (8, 16)})
    model_file = Path(settings.MEDIA_ROOT) / detector.media_dir / "model.pt"
    model_file.parent.mkdir(parents=True, exist_ok=True)
    CAEDetector(build_model(config), config, detector.threshold, normalisation_stats(np.zeros(4))).save(model_file)
    detector.artifact = f"{detector.media_dir}/model.pt"
    detector.training_curve = [{"epoch": e, "train_loss": 0.05 / e + 0.01, "val_loss": 0.06 / e + 0.012} for e in range(1, 30)]
    detector.validation_metrics = {"val_roc_auc": 0.612, "val_f1": 0.5, "val_frames": 400, "val_anomalous_frames": 40}
    detector.save()
    job = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector)
    assert run_job(job.pk, run_evaluation, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    return detector, seeded


def truth(seeded) -> tuple[np.ndarray, np.ndarray]:
    """Pooled frame labels and scores of the three videos, read from their score files."""
    labels, scores = [], []
    for one in seeded:
        stored = load_video_scores(Path(settings.MEDIA_ROOT) / one.runs["cae"].media_dir, with_heatmaps=False)
        labels.append(frame_labels(stored.times, [Interval(s, e, c) for s, e, c in one.anomalies]))
        scores.append(stored.frame_scores)
    return np.concatenate(labels), np.concatenate(scores).astype(np.float64)


def text(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def shown_state(page) -> dict:
    return page.evaluate("""() => {
        const figure = (id) => document.querySelector(`[data-figure="${id}"]`);
        const trace = (id) => { const gd = figure(id);
          const t = gd.data.find((d) => d.meta && d.meta.role === 'threshold'); return [t.x[0], t.y[0]]; };
        const confusion = figure('fig-confusion');
        const tile = (id) => document.getElementById(id).textContent;
        const slider = document.getElementById('threshold-slider');
        const table = JSON.parse(document.getElementById('slider-data').textContent);
        return {threshold: table.thresholds[Number(slider.dataset.index)], thumb: Number(slider.value),
                tiles: {precision: tile('slider-precision'), recall: tile('slider-recall'), f1: tile('slider-f1'),
                        fpr: tile('slider-fpr'), counts: tile('slider-counts'), threshold: tile('slider-threshold')},
                z: confusion.data[0].z, title: confusion.layout.title.text,
                roc: trace('fig-roc'), pr: trace('fig-pr'), posted: document.getElementById('use-threshold-value').value};
    }""")


def assert_agrees(state: dict, labels: np.ndarray, scores: np.ndarray) -> dict:
    """Tiles, matrix and markers against detection.evaluation at the threshold the slider shows."""
    threshold = state["threshold"]  # the table's, exactly: the thumb's value is the browser's rounding of it
    assert state["thumb"] == pytest.approx(threshold)
    counts = metrics.confusion_counts(labels, metrics.flag_frames(scores, threshold))
    rates = metrics.classification_rates(counts)
    fpr = counts["fp"] / (counts["fp"] + counts["tn"])
    assert state["tiles"] == {"precision": text(rates["precision"]), "recall": text(rates["recall"]),
                              "f1": text(rates["f1"]), "fpr": text(fpr), "threshold": f"{float(f'{threshold:.4g}'):g}",
                              "counts": f"{counts['tp']} / {counts['fp']} / {counts['tn']} / {counts['fn']}"}
    assert state["z"] == [[counts["tp"], counts["fn"]], [counts["fp"], counts["tn"]]]
    assert state["title"] == f"Confusion at threshold {float(f'{threshold:.4g}'):g}"
    assert state["roc"] == pytest.approx([fpr, rates["recall"]])
    if rates["precision"] is None:
        assert state["pr"] == [None, None]
    else:
        assert state["pr"] == pytest.approx([rates["recall"], rates["precision"]])
    assert float(state["posted"]) == threshold
    return counts


def test_the_slider_moves_tiles_matrix_and_curve_markers_together(page, live_server, evaluated):
    detector, seeded = evaluated
    labels, scores = truth(seeded)
    make_user("ada", "admin", password=PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "ada", PASSWORD)
    page.goto(reverse("detector", args=[detector.pk]))
    for figure in ("fig-roc", "fig-pr", "fig-confusion"):
        page.wait_for_selector(f"[data-figure='{figure}'][data-ready='1']", timeout=20_000)
    html = page.content()
    assert "Not evaluated yet" not in html and "No evaluation" not in html
    assert "0.612" not in page.inner_text("#validation-metrics")  # one source of AUCs: the evaluation
    state = shown_state(page)
    assert state["threshold"] == pytest.approx(detector.threshold)  # it opens at the detector's own threshold
    seen = [assert_agrees(state, labels, scores)]

    page.locator("#threshold-slider").scroll_into_view_if_needed()
    slider = page.locator("#threshold-slider").bounding_box()
    low, high = scores.min(), scores.max()
    for fraction in (0.1, 0.2, 0.55, 0.9):  # a click moves a linear slider to that share of the score range
        page.mouse.click(slider["x"] + fraction * slider["width"], slider["y"] + slider["height"] / 2)
        state = shown_state(page)
        assert state["threshold"] == pytest.approx(low + fraction * (high - low), abs=0.03 * (high - low))
        seen.append(assert_agrees(state, labels, scores))
    before = state["threshold"]
    page.focus("#threshold-slider")
    page.keyboard.press("ArrowLeft")  # one measured threshold lower
    state = shown_state(page)
    assert state["threshold"] < before
    seen.append(assert_agrees(state, labels, scores))
    assert len({tuple(c.values()) for c in seen}) >= 4  # the positions tried really differ
    assert not page.console_errors
    screenshot(page, "detector-page")

    page.locator("#threshold-slider").scroll_into_view_if_needed()
    slider = page.locator("#threshold-slider").bounding_box()
    page.mouse.click(slider["x"] + 0.55 * slider["width"], slider["y"] + slider["height"] / 2)
    chosen = shown_state(page)["threshold"]
    submit(page, "#use-threshold-button")
    job = Job.objects.get(kind=Job.Kind.RETHRESHOLD, detector=detector)
    assert job.params == {"threshold": chosen} and job.created_by.username == "ada"
    assert run_job(job.pk, run_rethreshold, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    assert Detector.objects.get(pk=detector.pk).threshold == chosen
    peaks = Event.objects.filter(score_run__detector=detector).values_list("peak_score", flat=True)
    assert peaks and min(peaks) >= chosen
    page.reload()
    assert page.inner_text("#detector-threshold") == f"{chosen:.4g}"
    row = page.inner_text("#decisions [data-decision='threshold']")
    assert "ada" in row and f"{chosen:.4g}" in row
    assert DetectorDecision.objects.get(detector=detector).user.username == "ada"
    wait_until(page, "document.getElementById('eval-stale') !== null")  # the evaluation says it is out of date
    for figure in ("fig-roc", "fig-pr", "fig-confusion"):
        page.wait_for_selector(f"[data-figure='{figure}'][data-ready='1']", timeout=20_000)
    state = shown_state(page)  # the slider opens at the threshold now in use, everything agreeing with it
    assert state["threshold"] == chosen
    assert_agrees(state, labels, scores)
    assert page.inner_text("#use-threshold-button") == "This is its threshold"


def test_a_degenerate_detector_needs_the_confirmation_box_to_be_made_active(page, evaluated):
    detector, _ = evaluated
    Detector.objects.filter(pk=detector.pk).update(is_active=False, validation_metrics={"video_auc": 0.0, "videos": 4})
    make_user("ada", "admin", password=PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "ada", PASSWORD)
    page.goto(reverse("detector", args=[detector.pk]))
    assert "video auc is 0" in page.inner_text("#degenerate-warning")
    page.click("#active-form button[type=submit]")  # the required box stops the form in the browser
    assert not Detector.objects.get(pk=detector.pk).is_active
    screenshot(page, "detector-page-degenerate", full_page=False)
    page.check("input[name=confirm_degenerate]")
    submit(page, "#active-form button[type=submit]")
    assert Detector.objects.get(pk=detector.pk).is_active
    assert DetectorDecision.objects.get(detector=detector).decision == DetectorDecision.Decision.ACTIVATED_DESPITE_WARNING
    assert "Made active despite the validation warning" in page.inner_text("#decisions")
