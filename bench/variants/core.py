"""Plain-ORM variants of the core's raw SQL (tickets/raw_sql.py), installed where the
services import them."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When

from bench.variants import variant


def _identities_insert(*, customer_id: int, identities: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    from tickets.models import ContactIdentity

    ContactIdentity.objects.bulk_create(
        [ContactIdentity(customer_id=customer_id, kind=k, value=v) for k, v in identities],
        ignore_conflicts=True,
    )
    query = Q()
    for kind, value in identities:
        query |= Q(kind=kind, value=value)
    return set(
        ContactIdentity.objects.filter(query, customer_id=customer_id).values_list("kind", "value")
    )


@variant("identities_insert", "bulk_create(ignore_conflicts=True) and a read of what went in")
def identities_insert() -> None:
    from tickets.services import customers

    customers.identities_insert = _identities_insert  # type: ignore[assignment]


def _promise_claim(  # type: ignore[no-untyped-def]
    *,
    channel: str,
    identities: list[tuple[str, str]],
    strength: list[str],
    now: datetime,
    abandoned_before: datetime,
):
    from tickets.models import ContactIdentity, Ticket, TicketPromise
    from tickets.raw_sql import ticket_id_next

    rank = {kind: position for position, kind in enumerate(strength)}
    kind, value = min(identities, key=lambda pair: rank.get(pair[0], len(rank)))
    query = Q()
    for identity_kind, identity_value in identities:
        query |= Q(kind=identity_kind, value=identity_value)
    owner = (
        ContactIdentity.objects.filter(query)
        .annotate(
            strength=Case(
                *[When(kind=k, then=Value(position)) for k, position in rank.items()],
                default=Value(99),
            )
        )
        .order_by("strength")
        .values_list("customer_id", flat=True)
        .first()
    )
    if owner is not None:
        open_ticket = (
            Ticket.objects.filter(customer_id=owner, channel=channel, is_open=True)
            .order_by("-created_at")
            .values_list("pk", "number")
            .first()
        )
        if open_ticket is not None:
            return open_ticket[0], open_ticket[1], None
    with transaction.atomic():
        promise = (
            TicketPromise.objects.select_for_update()
            .filter(channel=channel, kind=kind, value=value)
            .first()
        )
        if promise is None:
            try:
                with transaction.atomic():
                    promise = TicketPromise.objects.create(
                        channel=channel,
                        kind=kind,
                        value=value,
                        ticket_id=ticket_id_next(),
                        promised_at=now,
                    )
            except IntegrityError:
                promise = TicketPromise.objects.select_for_update().get(
                    channel=channel, kind=kind, value=value
                )
            return promise.ticket_id, None, promise.promised_at
        is_open = Ticket.objects.filter(pk=promise.ticket_id).values_list("is_open", flat=True)
        state = is_open.first()
        ended = state is False or (state is None and promise.promised_at < abandoned_before)
        if ended:
            promise.ticket_id, promise.promised_at = ticket_id_next(), now
            promise.save(update_fields=["ticket_id", "promised_at"])
        return promise.ticket_id, None, promise.promised_at


@variant("promise", "the ticket promise as ORM reads and a locked get-or-create")
def promise() -> None:
    from tickets.services import promise as promise_service

    promise_service.promise_claim = _promise_claim  # type: ignore[assignment]


def _bulk_create(model, rows):  # type: ignore[no-untyped-def]
    return model._default_manager.bulk_create(rows)


@variant("rows_insert", "bulk_create for the batches' trail entries, messages, notices, surveys")
def rows_insert() -> None:
    from aftersales.services import notices
    from feedback.services import callbacks, surveys
    from tickets.services import intake, trail

    for module in (trail, notices, surveys, intake, callbacks):
        module.rows_insert = _bulk_create  # type: ignore[attr-defined]


def _bulk_update(model, rows, fields) -> None:  # type: ignore[no-untyped-def]
    model._default_manager.bulk_update(rows, fields)


@variant("rows_update", "bulk_update for the batches' status changes, clocks and surveys")
def rows_update() -> None:
    from aftersales.services import clocks, event_inbox, history
    from channels_ingest.pipeline import process
    from feedback.services import surveys
    from tickets.services import sla_clocks, workflow

    for module in (sla_clocks, workflow, history, clocks, event_inbox, surveys, process):
        module.rows_update = _bulk_update  # type: ignore[attr-defined]
