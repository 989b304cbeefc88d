from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from webapp.accounts.roles import VIEWER, has_role, visible
from webapp.catalog.models import Mission
from webapp.core.health import health, liveness
from webapp.jobs.models import Job
from webapp.reports.inbox import needs_attention


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
    context = {
        "missions": visible(Mission.objects.select_related("area"), user, "area__team")[:10],
        "attention": needs_attention(user),
        "active_jobs": Job.listed_to(user).filter(state__in=Job.ACTIVE_STATES)[:10],
    }
    return render(request, "core/dashboard.html", context)


def not_found(request: HttpRequest, exception) -> HttpResponse:
    """The 404 of a URL that matches no route: JSON under /api/, as the API's own 404s and its schema say."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
