"""The jobs page, its JSON feed (polled by static/jobs/jobs.js) and the cancel/retry actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.roles import VIEWER, require_role, role_required
from webapp.core.params import id_param, parse_id
from webapp.jobs import services
from webapp.jobs.kinds import INTERNAL_JOB_KINDS
from webapp.jobs.models import Job
from webapp.jobs.quotas import JobLimitReached

PAGE_SIZE = 200  # the most a feed answers at once (?limit=)
JOBS_PER_PAGE = 50  # rows of the jobs page
FILTERS = ("video", "detector", "mission")


def filtered_jobs(params, user) -> tuple:
    """The user's jobs narrowed by ?video=, ?detector=, ?mission=, ?state=, ?kind=, ?ids=1,2; a bad id is a 400.

    Internal kinds (no-op jobs of tests and benchmarks) are left out unless ?kind= names one."""
    named = params.get("kind") in Job.Kind.values
    jobs = (Job.visible_to(user) if named else Job.listed_to(user)).select_related("video", "detector", "mission")
    for name in ("video", "detector"):
        if (value := id_param(params, name)) is not None:
            jobs = jobs.filter(**{f"{name}_id": value})
    if (mission := id_param(params, "mission")) is not None:
        jobs = jobs.filter(Q(mission_id=mission) | Q(video__mission_id=mission))
    if params.get("ids"):
        jobs = jobs.filter(pk__in=[parse_id(i, "ids") for i in params["ids"].split(",") if i])
    if params.get("state") in Job.State.values:
        jobs = jobs.filter(state=params["state"])
    if named:
        jobs = jobs.filter(kind=params["kind"])
    return jobs


def user_kinds() -> list[tuple[str, str]]:
    """The kinds the jobs page offers as a filter: those people start."""
    return [(value, label) for value, label in Job.Kind.choices if value not in INTERNAL_JOB_KINDS]


def jobs_page(params, user) -> Page:
    """One page of the filtered jobs (?page=, JOBS_PER_PAGE rows; past the end is the last page)."""
    return Paginator(filtered_jobs(params, user), JOBS_PER_PAGE).get_page(params.get("page"))


def job_json(job: Job, can_act: bool) -> dict:
    target = job.target
    try:
        target_url = target.get_absolute_url() if target else ""
    except NoReverseMatch:
        target_url = ""
    return {
        "id": job.pk, "kind": job.kind, "kind_label": job.get_kind_display(), "state": job.state,
        "state_label": job.get_state_display(), "progress": round(job.progress, 4), "stage": job.stage,
        "eta_seconds": job.eta_seconds, "attempts": job.attempts, "error": job.error, "worker": job.worker,
        "cancel_requested": job.cancel_requested,
        "target": job.target_label, "target_url": target_url,
        "created": job.created.isoformat(), "started": job.started.isoformat() if job.started else None,
        "finished": job.finished.isoformat() if job.finished else None,
        "heartbeat": job.heartbeat.isoformat() if job.heartbeat else None,
        "duration_seconds": job.duration_seconds,
        "can_cancel": can_act and job.is_cancellable, "can_retry": can_act and job.is_retryable,
        "cancel_url": reverse("job_cancel", args=[job.pk]), "retry_url": reverse("job_retry", args=[job.pk]),
        "output_url": job.output_url, "output_label": job.output_label,
    }


@require_GET
@role_required(VIEWER)
def job_list(request: HttpRequest) -> HttpResponse:
    page = jobs_page(request.GET, request.user)
    query = urlencode({k: request.GET[k] for k in (*FILTERS, "state", "kind") if request.GET.get(k)})
    # The live feed redraws this page's rows: the same filters and page number.
    feed = f"{query}&page={page.number}" if query else f"page={page.number}"
    return render(request, "jobs/list.html", {"jobs": page.object_list, "page": page, "query": query,
                                              "jobs_filter": feed, "states": Job.State.choices,
                                              "kinds": user_kinds(), "chosen": request.GET})


def page_size(params) -> int:
    try:
        return min(PAGE_SIZE, max(1, int(params.get("limit", PAGE_SIZE))))
    except ValueError:
        return PAGE_SIZE


@require_GET
@role_required(VIEWER)
def job_status(request: HttpRequest) -> JsonResponse:
    if "page" in request.GET:
        jobs = jobs_page(request.GET, request.user).object_list
    else:
        jobs = filtered_jobs(request.GET, request.user)[: page_size(request.GET)]
    return JsonResponse({"jobs": [job_json(job, job.may_be_managed_by(request.user)) for job in jobs]})


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("jobs")
    return redirect(target)


def _answer(request: HttpRequest, job: Job, done: bool, ok: str, no: str) -> HttpResponse:
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": done, "message": ok if done else no, "job": job_json(job, True)},
                            status=200 if done else 409)
    (messages.success if done else messages.error)(request, ok if done else no)
    return _back(request)


def _over_limit(request: HttpRequest, job: Job, message: str) -> HttpResponse:
    """A retry the job caps refuse: 429 for the page's script, a message for a plain form post."""
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": False, "message": message, "job": job_json(job, True)}, status=429)
    messages.error(request, message)
    return _back(request)


def job_to_manage(request: HttpRequest, pk: int) -> Job:
    """The job, if this user may cancel or retry it: another team's job is not found (404); within the user's
    team, cancelling or retrying needs the role that may start its kind (403)."""
    require_role(request.user, VIEWER)
    job = get_object_or_404(Job.visible_to(request.user), pk=pk)
    if not job.may_be_managed_by(request.user):
        raise PermissionDenied(f"cancelling or retrying a {job.kind} job needs the {job.role_to_manage} role")
    return job


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_to_manage(request, pk)
    done = services.cancel_job(job, request.user)
    return _answer(request, job, done, f"Job #{job.pk} is being cancelled.", f"Job #{job.pk} has already ended.")


@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_to_manage(request, pk)
    try:
        done = services.retry_job(job, request.user)
    except JobLimitReached as exc:
        return _over_limit(request, job, f"Job #{job.pk} was not retried: {exc}.")
    return _answer(request, job, done, f"Job #{job.pk} is queued again.",
                   f"Job #{job.pk} cannot be retried: only failed or cancelled jobs can.")
