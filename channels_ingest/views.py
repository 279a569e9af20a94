"""The outbox page: what embedded mode would have sent (codes, replies, notifications)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from channels_ingest.models import OutboxEntry
from kefu.roles import Role, role_required


@require_GET
@role_required(Role.SUPERVISOR)
def outbox(request: HttpRequest) -> HttpResponse:
    return render(request, "outbox.html", {"entries": OutboxEntry.objects.all()[:200]})
