"""Kefu's own error answers: a server error names its request id, which is in the log line
with the traceback (LOGGING in kefu/settings.py), so a user or an integration can quote it."""

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django_guid import get_guid


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. JSON for the API and for callers that ask for JSON; a plain page otherwise
    (rendered without the site's context processors, which may be what failed)."""
    request_id = get_guid() or ""
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": "Server error.", "request_id": request_id}, status=500)
    page = loader.get_template("500.html").render({"request_id": request_id})
    return HttpResponse(page, status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, for browsers and tools that ask for it without reading the pages' icon
    link: the SVG icon, served by whitenoise under its hashed name in production."""
    return HttpResponsePermanentRedirect(static("kefu/favicon.svg"))
