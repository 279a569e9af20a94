"""The outbox page: what embedded mode would have sent (codes, replies, notifications).
Contact details are masked and one-time codes hidden; a supervisor reveals one entry at a
time, and each reveal is in the audit log."""

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from channels_ingest.models import OutboxEntry
from channels_ingest.outbox import outbox_row
from kefu.roles import Role, role_required
from tickets.services.audit import audit_record

PAGE_SIZE = 200


class HtmxHttpRequest(HttpRequest):
    # Set by django_htmx's middleware on every request.
    htmx: HtmxDetails


@require_GET
@role_required(Role.SUPERVISOR)
def outbox(request: HttpRequest) -> HttpResponse:
    return _outbox_page(request, revealed=None)


@require_POST
@role_required(Role.SUPERVISOR)
def outbox_reveal(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Show one entry unmasked, and record who saw it. htmx gets the entry's row back; a
    plain form post gets the page with that entry shown in full."""
    entry = get_object_or_404(OutboxEntry, pk=pk)
    audit_record(
        actor=cast(User, request.user),
        action="outbox_revealed",
        object_type="outbox_entry",
        object_id=str(entry.pk),
        data={"channel": entry.channel, "kind": entry.kind, "ticket": entry.ticket_number},
    )
    if request.htmx:
        return render(request, "_outbox_row.html", {"row": outbox_row(entry, revealed=True)})
    return _outbox_page(request, revealed=entry)


def _outbox_page(request: HttpRequest, *, revealed: OutboxEntry | None) -> HttpResponse:
    entries = OutboxEntry.objects.all()[:PAGE_SIZE]
    rows = [
        outbox_row(entry, revealed=revealed is not None and entry.pk == revealed.pk)
        for entry in entries
    ]
    return render(request, "outbox.html", {"rows": rows})
