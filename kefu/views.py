"""Kefu's own error answers: a server error names its request id, which is in the log line
with the traceback (LOGGING in kefu/settings.py), so a user or an integration can quote it."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django_guid import get_guid


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. JSON for the API and for callers that ask for JSON; a plain page otherwise
    (rendered without the site's context processors, which may be what failed)."""
    request_id = get_guid() or ""
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": "Server error.", "request_id": request_id}, status=500)
    page = loader.get_template("500.html").render({"request_id": request_id})
    return HttpResponse(page, status=500)
