from django.contrib.auth.decorators import login_not_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from webapp.accounts.roles import VIEWER, has_role, visible
from webapp.catalog.models import Mission
from webapp.core.health import health, liveness
from webapp.detectors.models import Event
from webapp.jobs.models import Job


@login_not_required
@require_GET
def healthz(request):
    """Anyone gets liveness (is the database reachable); a signed-in user with a role, or an API token, gets the
    detailed report: broker, disk, and the workers per queue (pinged, about a second, unless ?workers=0)."""
    if sees_health_details(request):
        report = health(include_workers=request.GET.get("workers", "1") != "0")
    else:
        report = liveness()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def sees_health_details(request) -> bool:
    """A session user or a token's user holding at least the viewer role; a bad token is just anonymous."""
    user = request.user
    if not user.is_authenticated:
        try:
            found = TokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return False
        user = found[0] if found else user
    return has_role(user, VIEWER)


@require_GET
def dashboard(request):
    user = request.user
    unreviewed = visible(Event.objects.filter(review=Event.Review.UNREVIEWED), user,
                         "score_run__video__mission__area__team")
    context = {
        "missions": visible(Mission.objects.select_related("area"), user, "area__team")[:10],
        "unreviewed": unreviewed.select_related("score_run__video__mission", "score_run__detector")
                                .order_by(F("level").desc(nulls_last=True), "-peak_score")[:10],
        "unreviewed_count": unreviewed.count(),
        "active_jobs": Job.listed_to(user).filter(state__in=Job.ACTIVE_STATES)[:10],
    }
    return render(request, "core/dashboard.html", context)


def not_found(request: HttpRequest, exception) -> HttpResponse:
    """The 404 of a URL that matches no route: JSON under /api/, as the API's own 404s and its schema say."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
