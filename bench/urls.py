"""Kefu's URLs plus `bench/ceiling/`: the framework ceiling of the intake benchmark.

The ceiling is the cheapest useful write Django can do here: a plain function view that parses
the same JSON body the app API gets, inserts one row and answers a tiny JSON 201, behind the
same middleware, on the same gunicorn, database and settings as Kefu's endpoint.
"""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from channels_ingest.models import OutboxEntry
from kefu.urls import urlpatterns as kefu_urlpatterns


@csrf_exempt
def ceiling(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"detail": "POST only"}, status=405)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "not JSON"}, status=400)
    entry = OutboxEntry.objects.create(
        channel="bench",
        to=str(data.get("user_id", ""))[:254],
        body=str(data.get("text", "")),
        kind="ceiling",
        reference=str(data.get("message_id", ""))[:100],
    )
    return JsonResponse({"id": entry.pk}, status=201)


urlpatterns = [path("bench/ceiling/", ceiling, name="bench-ceiling"), *kefu_urlpatterns]
