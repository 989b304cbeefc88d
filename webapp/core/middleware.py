"""Security headers Django does not set itself (a Content-Security-Policy with no inline scripts), and the
400 answer to a query parameter or body that cannot be read (`webapp.core.params.BadParameter`)."""

from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse

from webapp.core.params import BadParameter

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class BadParameterMiddleware:
    """Answer BadParameter, raised by a page or an API view (or here, for a NUL in a query parameter), with a 400
    and its message instead of a 500.

    Browsers (Accept: text/html) get the message as text; everyone else, the API's callers and the pages'
    fetch() calls among them, DRF's error shape {"detail": message}."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # No text column can hold a NUL character (PostgreSQL refuses it), so a query parameter carrying one can
        # only fail deeper down: every page and API view refuses it here, by the parameter's name.
        hostile = next((name for name, values in request.GET.lists() if any("\x00" in v for v in values)), None)
        if hostile is not None:
            return self.process_exception(request, BadParameter(f"{hostile} must not contain a NUL character"))
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, BadParameter):
            return None
        if "text/html" in request.headers.get("Accept", "") and not request.path.startswith("/api/"):
            return HttpResponseBadRequest(str(exception), content_type="text/plain; charset=utf-8")
        return JsonResponse({"detail": str(exception)}, status=400)
