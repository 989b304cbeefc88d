"""The detector page: how it trained, what it reconstructs, and how well it does on the videos it scored."""

from __future__ import annotations

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
from webapp.core.media import stored_file_response
from webapp.detectors.models import Detector
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


def evaluation_figures(shown: evaluation.ShownEvaluation | None) -> dict[str, str]:
    """The evaluation's figures as JSON, from the points its job wrote (nothing is computed here)."""
    if shown is None:
        return {}
    own, threshold = shown.curves["own"], shown.entry["threshold"]
    figures = {"roc": roc_figure([own]), "pr": pr_figure([own]), "confusion": confusion_figure(own["confusion"]),
               "classes": class_scores_figure(shown.curves["class_peaks"], threshold=threshold)}
    return {name: figure_json(figure) for name, figure in figures.items()}


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
    figures = evaluation_figures(shown)
    if the_detector.training_curve:
        figures["curve"] = figure_json(training_curve_figure(the_detector.training_curve))
    context = {
        **area_page_roles(request.user, the_detector.area),
        "detector": the_detector, "shown": shown, "figures": figures, "pairs": comparison_figures(shown),
        "epochs": reconstruction_epochs(the_detector),
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
    """Admins choose whether a detector scores new videos of its area."""
    the_detector = detector_for(request, pk, role=ADMIN)
    active = request.POST.get("active") == "1"
    replaced = []
    with transaction.atomic():
        Detector.objects.filter(pk=the_detector.pk).update(is_active=active)
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
