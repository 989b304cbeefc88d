"""plotly.js from inside the installed `plotly` package, served by the app (no CDN), cached for a year.

The URL carries the plotly.js version, so an upgrade of the package is a new URL and browsers never keep a
stale copy; the gzip body is made once per process.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

import plotly
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.views.decorators.http import require_safe
from plotly.offline import get_plotlyjs_version

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
YEAR = 365 * 24 * 3600


def plotly_js_version() -> str:
    return get_plotlyjs_version()


@cache
def plotly_js_bytes() -> bytes:
    return PLOTLY_JS.read_bytes()


@cache
def plotly_js_gzip() -> bytes:
    return gzip.compress(plotly_js_bytes(), compresslevel=6, mtime=0)


@cache
def plotly_js_etag() -> str:
    return '"' + hashlib.sha256(plotly_js_bytes()).hexdigest()[:32] + '"'


def plotly_js_text() -> str:
    return plotly_js_bytes().decode("utf-8")


def plotly_js_url() -> str:
    return reverse("plotly_js", args=[plotly_js_version()])


@login_not_required
@require_safe
def plotly_js(request, version: str):
    """The bundled plotly.min.js; public like any static file, since it is the same for everyone."""
    if version != plotly_js_version():
        raise Http404(f"this server has plotly.js {plotly_js_version()}")
    if request.headers.get("If-None-Match") == plotly_js_etag():
        return HttpResponseNotModified()
    zipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(plotly_js_gzip() if zipped else plotly_js_bytes(),
                            content_type="text/javascript; charset=utf-8")
    if zipped:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["ETag"] = plotly_js_etag()
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
