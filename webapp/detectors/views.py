"""The detector page: how it trained, what it reconstructs, and how well it does on the videos it scored."""

from __future__ import annotations

import math
import re
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.roles import ADMIN
from webapp.catalog.access import area_page_roles
from webapp.catalog.models import Video
from webapp.core.media import stored_file_response
from webapp.detectors.models import Detector, DetectorDecision
from webapp.jobs import services
from webapp.jobs.models import Job
from webapp.jobs.quotas import JobLimitReached
from webapp.reports import evaluation
from webapp.reports.access import detector_for
from webapp.reports.figures import (
    class_scores_figure,
    comparison_figure,
    confusion_figure,
    figure_json,
    pr_figure,
    roc_figure,
    training_curve_figure,
    with_threshold_marker,
)
from webapp.reports.reviews import reviews_since_training

EVALUATION_FILES = ("metrics.json", "curves.json", "report.md")
RECON = re.compile(r"^recon_(\d+)\.png$")
SHOWN_EPOCHS = (0, 10, 20)


def reconstruction_epochs(detector) -> list[int]:
    """Epochs with a reconstruction image on disk, of those the page shows: 0, 10, 20 and the last."""
    folder = Path(settings.MEDIA_ROOT) / detector.media_dir
    found = sorted(int(m.group(1)) for p in folder.glob("recon_*.png") if (m := RECON.match(p.name))) if folder.is_dir() else []
    if not found:
        return []
    return sorted({e for e in found if e in SHOWN_EPOCHS} | {found[-1]})


def evaluation_figures(shown: evaluation.ShownEvaluation | None, current: float | None = None) -> dict[str, str]:
    """The evaluation's figures as JSON, from the points its job wrote (nothing is computed here)."""
    if shown is None:
        return {}
    table = shown.curves["slider"]
    own, threshold, row = shown.curves["own"], shown.entry["threshold"], slider_row(table, opening_index(table, current))
    figures = {"roc": legend_inside(with_threshold_marker(roc_figure([own]), row.get("fpr"), row.get("recall")), "right"),
               "pr": legend_inside(with_threshold_marker(pr_figure([own]), row.get("recall"), row.get("precision")), "left"),
               "confusion": confusion_figure(row.get("counts") or own["confusion"],
                                             title=f"Confusion at threshold {row.get('threshold', threshold):.4g}"),
               "classes": class_scores_figure(shown.curves["class_peaks"], threshold=threshold)}
    return {name: figure_json(figure) for name, figure in figures.items()}


# Training's validation numbers a page with an evaluation leaves out: the evaluation is the one source of
# AUCs and rates, and the threshold may have changed since training chose it.
MEASURES = re.compile(r"auc|_ap$|f1|precision|recall|accuracy|false_alarm|^threshold$")
SLIDER_TICKS = 5


def validation_rows(detector, evaluated: bool) -> list[tuple[str, object]]:
    """The validation metrics the page lists: all but the warnings and the dismissed intervals a CHANGE
    detector indexed (the lineage card lists those), and without the measures when evaluated."""
    return [(key, value) for key, value in detector.validation_metrics.items()
            if key not in ("warnings", "dismissed_intervals") and not (evaluated and MEASURES.search(key))]


def dismissed_added(detector) -> list[dict]:
    """The dismissed intervals a CHANGE detector's training indexed (its validation metrics name them by video
    id), each with its video when it still exists."""
    added = [a for a in detector.validation_metrics.get("dismissed_intervals") or [] if isinstance(a, dict)]
    ids = [int(a["video"]) for a in added if str(a.get("video", "")).isdigit()]
    videos = Video.objects.filter(pk__in=ids, mission__area=detector.area_id).in_bulk()
    return [{"name": str(a.get("video", "")), "intervals": a.get("intervals") or [],
             "video": videos.get(int(a["video"])) if str(a.get("video", "")).isdigit() else None} for a in added]


def opening_index(table: dict, current: float | None) -> int:
    """Where the slider opens: the measured threshold nearest the detector's current one (an admin may have
    changed it since the evaluation, to one of the table's), else the one the evaluation used."""
    thresholds = table.get("thresholds") or []
    if current is None or not thresholds:
        return table.get("index", 0)
    return min(range(len(thresholds)), key=lambda i: abs(thresholds[i] - current))


def slider_scale(table: dict, current: float | None = None) -> dict | None:
    """The linear slider over the table's thresholds: its ends, its opening value and tick labels."""
    thresholds = table.get("thresholds") or []
    if not thresholds:
        return None
    low, high = thresholds[0], thresholds[-1]
    ticks = [low + (high - low) * i / (SLIDER_TICKS - 1) for i in range(SLIDER_TICKS)]
    index = opening_index(table, current)
    return {"low": low, "high": high, "index": index, "value": thresholds[index], "ticks": ticks}


def legend_inside(figure: dict, side: str) -> dict:
    """The legend in the plot's empty lower corner, so that three figures side by side keep their width."""
    legend = {"x": 0.98 if side == "right" else 0.02, "xanchor": side, "y": 0.04, "yanchor": "bottom",
              "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "#d8dee2", "borderwidth": 1}
    return {**figure, "layout": {**figure["layout"], "legend": legend}}


def slider_row(table: dict, index: int | None = None) -> dict:
    """One row of the slider's threshold table (curves.json), the one source of the page's moving numbers:
    {"threshold", "counts", "precision", "recall", "fpr"}; the JS reads the same table the same way. Empty
    for an empty table."""
    thresholds = table.get("thresholds") or []
    if not thresholds:
        return {}
    i = table.get("index", 0) if index is None else index
    counts = {k: int(table[k][i]) for k in ("tp", "fp", "tn", "fn")}
    negatives = counts["fp"] + counts["tn"]  # tables written before they carried "fpr"
    fpr = table["fpr"][i] if "fpr" in table else counts["fp"] / negatives if negatives else None
    return {"threshold": thresholds[i], "counts": counts, "precision": table["precision"][i],
            "recall": table["recall"][i], "fpr": fpr}


def comparison_figures(shown: evaluation.ShownEvaluation | None) -> list[dict]:
    """The side-by-side sections: each with its two rows and (element id, figure JSON) pairs."""
    pairs = shown.curves["comparisons"] if shown else []
    return [{**pair, "figures": [(f"fig-compare-{n}", figure_json(comparison_figure(pair["rows"]))),
                                 (f"fig-compare-roc-{n}", figure_json(roc_figure(pair["rows"])))]}
            for n, pair in enumerate(pairs)]


@require_GET
def detector(request, pk: int):
    the_detector = detector_for(request, pk)
    shown = evaluation.latest_evaluation(the_detector)
    figures = evaluation_figures(shown, the_detector.threshold)
    if the_detector.training_curve:
        figures["curve"] = figure_json(training_curve_figure(the_detector.training_curve))
    context = {
        **area_page_roles(request.user, the_detector.area),
        "detector": the_detector, "shown": shown, "figures": figures, "pairs": comparison_figures(shown),
        "epochs": reconstruction_epochs(the_detector),
        "degenerate": the_detector.degenerate_reasons(),
        "validation_rows": validation_rows(the_detector, evaluated=shown is not None),
        "dismissed_added": dismissed_added(the_detector),
        "slider": slider_scale(shown.curves["slider"], the_detector.threshold) if shown else None,
        "decisions": the_detector.decisions.select_related("user", "job")[:20],
        "rethreshold": services.active_job(Job.Kind.RETHRESHOLD, detector=the_detector),
        "jobs": the_detector.jobs.all()[:10],
        "references": the_detector.reference_videos.select_related("mission").order_by("-mission__date", "-pk"),
        "scored": the_detector.score_runs.count(),
        "reviews_since": reviews_since_training(the_detector),
        "versions": the_detector.versions.order_by("-created"),
        "score_runs": the_detector.score_runs.select_related("video__mission").annotate(events_found=Count("events"))
        .order_by("-max_score")[:200],
    }
    return render(request, "detectors/detector.html", context)


@require_GET
def detector_reconstruction(request, pk: int, epoch: int):
    the_detector = detector_for(request, pk)
    path = Path(settings.MEDIA_ROOT) / the_detector.media_dir / f"recon_{epoch}.png"
    if not path.is_file():
        raise Http404(f"no reconstruction saved at epoch {epoch}")
    return stored_file_response(request, path)


@require_POST
def detector_active(request, pk: int):
    """Admins choose whether a detector scores new videos of its area; one whose validation is degenerate needs
    the admin to tick the confirmation too, and that override is recorded."""
    the_detector = detector_for(request, pk, role=ADMIN)
    active = request.POST.get("active") == "1"
    reasons = the_detector.degenerate_reasons() if active else []
    if reasons and request.POST.get("confirm_degenerate") != "1":
        messages.error(request, f"“{the_detector.name}” was not made active: {'; '.join(reasons)}. Tick the "
                                "confirmation to use it anyway.")
        return redirect(the_detector)
    replaced = []
    with transaction.atomic():
        Detector.objects.filter(pk=the_detector.pk).update(is_active=active)
        if reasons:
            DetectorDecision.objects.create(detector=the_detector, user=request.user, detail="; ".join(reasons),
                                            decision=DetectorDecision.Decision.ACTIVATED_DESPITE_WARNING)
        if active and the_detector.parent_id:  # a retrained version takes over from the versions before it
            others = Detector.objects.filter(area=the_detector.area_id, kind=the_detector.kind, is_active=True)
            others = others.exclude(pk=the_detector.pk)
            replaced = list(others.values_list("name", flat=True))
            others.update(is_active=False)
    state = "now scores new videos" if active else "no longer scores new videos"
    instead = f", instead of {', '.join(f'“{n}”' for n in replaced)}" if replaced else ""
    messages.success(request, f"“{the_detector.name}” {state} of {the_detector.area.name}{instead}.")
    return redirect(the_detector)


@require_POST
def detector_threshold(request, pk: int):
    """An admin makes a threshold the detector's: a job re-derives the events of its scored videos from their
    stored scores (workers/rethreshold.py) and then records the change."""
    the_detector = detector_for(request, pk, role=Job.role_to_start(Job.Kind.RETHRESHOLD))
    try:
        threshold = float(request.POST.get("threshold", ""))
    except ValueError:
        threshold = math.nan
    if not math.isfinite(threshold):
        messages.error(request, "The threshold must be a number.")
    elif the_detector.status != Detector.Status.READY:
        messages.error(request, f"“{the_detector.name}” is not trained yet: it has no scores to re-threshold.")
    elif the_detector.threshold is not None and threshold == the_detector.threshold:
        messages.info(request, f"{threshold:.6g} is already the threshold of “{the_detector.name}”.")
    else:
        job = services.start_rethreshold(the_detector, threshold, user=request.user)
        messages.success(request, f"Re-deriving the events of “{the_detector.name}” at threshold "
                                  f"{job.params['threshold']:.6g} (job #{job.pk}); the threshold changes when it ends.")
    return redirect(the_detector)


@require_POST
def detector_evaluate(request, pk: int):
    """Whoever may train starts an evaluation on the area's labelled videos (scored first where needed)."""
    the_detector = detector_for(request, pk, role=Job.role_to_start(Job.Kind.EVALUATE))
    if the_detector.status != Detector.Status.READY:
        messages.error(request, f"“{the_detector.name}” is not trained yet: train it before evaluating it.")
        return redirect(the_detector)
    try:
        services.start_evaluation(the_detector, user=request.user)
    except JobLimitReached as exc:
        messages.error(request, f"Could not start the evaluation: {exc}.")
        return redirect(the_detector)
    messages.success(request, f"Evaluation of “{the_detector.name}” on the labelled videos of "
                              f"{the_detector.area.name} queued; progress shows under Jobs.")
    return redirect(the_detector)


@require_POST
def detector_retrain(request, pk: int):
    """Retrain with reviews: a new version, not active, trained on the area's labels and reviews as they are now
    and then evaluated on videos it did not train on; the admin activates it from its page."""
    the_detector = detector_for(request, pk, role=Job.role_to_start(Job.Kind.TRAIN))
    try:
        version, _ = services.start_retraining(the_detector, user=request.user)
    except JobLimitReached as exc:
        messages.error(request, f"Could not start the retraining: {exc}.")
        return redirect(the_detector)
    messages.success(request, f"“{version.name}” is training with the reviews so far; it will then be evaluated on "
                              "held-out labelled videos. It scores nothing until an admin makes it active.")
    return redirect(version)


@require_GET
def detector_evaluation_file(request, pk: int, job: int, name: str):
    """metrics.json, curves.json or report.md of one of the detector's succeeded evaluations."""
    the_detector = detector_for(request, pk)
    if name not in EVALUATION_FILES:
        raise Http404("no such evaluation file")
    the_job = get_object_or_404(Job, pk=job, detector=the_detector, kind=Job.Kind.EVALUATE, state=Job.State.SUCCEEDED)
    folder = Path(str(the_job.result.get("metrics", ""))).parent
    path = (Path(settings.MEDIA_ROOT) / folder / name).resolve()
    if not str(folder).startswith(f"{the_detector.media_dir}/") or not path.is_file():
        raise Http404("the evaluation's files are gone")
    return stored_file_response(request, path)
