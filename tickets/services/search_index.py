"""Keeping tickets' search documents (tickets.models.TicketSearchDocument) in step with
what is written on them.

Every service that stores a subject or a message calls `search_document_add` inside its
own transaction: the words commit with the message or not at all, so no message is ever
stored unfindable and there is no queue to lose. Anonymising a ticket empties its document
with its text (tickets.services.privacy). `search_documents_rebuild` makes documents again
from the stored text (the `search_rebuild` command: after a change to segmentation, or to
index tickets that predate search).
"""

from collections.abc import Iterable, Iterator

from django.db import transaction

from tickets.models import Message, Ticket, TicketSearchDocument
from tickets.search import document_merge, document_words


def _store(ticket_id: int, document: str) -> None:
    # On PostgreSQL the row's trigger makes `vector` from the words and the ticket's facets
    # (tickets.models.search).
    TicketSearchDocument.objects.filter(ticket_id=ticket_id).update(document=document)


def search_document_add(*, ticket_id: int, texts: Iterable[str]) -> None:
    """Add the words of `texts` (a subject, a message) to the ticket's search document.

    Joins the caller's transaction. The document's row is locked while its words are
    merged, so two messages written at once on one ticket both keep their words."""
    words = [word for text in texts if text for word in document_words(text)]
    if not words:
        return
    with transaction.atomic(savepoint=False):
        TicketSearchDocument.objects.bulk_create(
            [TicketSearchDocument(ticket_id=ticket_id)], ignore_conflicts=True
        )
        held = (
            TicketSearchDocument.objects.select_for_update()
            .filter(ticket_id=ticket_id)
            .values_list("document", flat=True)
            .first()
        )
        merged = document_merge(held or "", words)
        if merged != held:
            _store(ticket_id, merged)


def search_document_clear(*, ticket_ids: list[int]) -> None:
    """Forget the words of these tickets (their text was removed)."""
    TicketSearchDocument.objects.filter(ticket_id__in=ticket_ids).delete()


def tickets_documents(tickets: list[Ticket]) -> dict[int, str]:
    """The search documents of these tickets made from scratch from their subjects and
    messages (two queries whatever their number)."""
    words: dict[int, list[str]] = {ticket.pk: document_words(ticket.subject) for ticket in tickets}
    messages = (
        Message.objects.filter(ticket_id__in=list(words))
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "subject", "body")
    )
    for ticket_id, subject, body in messages.iterator(chunk_size=2000):
        words[ticket_id].extend(document_words(subject))
        words[ticket_id].extend(document_words(body))
    return {ticket_id: document_merge("", found) for ticket_id, found in words.items()}


def search_documents_rebuild(*, batch: int = 500, start_after: int = 0) -> Iterator[int]:
    """Make every ticket's search document again, in batches of `batch` tickets by id, one
    transaction per batch; yields the count done after each batch."""
    done = 0
    last = start_after
    while True:
        tickets = list(
            Ticket.objects.filter(pk__gt=last).only("pk", "subject").order_by("pk")[:batch]
        )
        if not tickets:
            return
        with transaction.atomic():
            rows = [
                TicketSearchDocument(ticket_id=ticket_id, document=document)
                for ticket_id, document in tickets_documents(tickets).items()
            ]
            # On PostgreSQL the rows' trigger makes their vectors.
            TicketSearchDocument.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["ticket"],
                update_fields=["document", "updated_at"],
            )
        done += len(tickets)
        last = tickets[-1].pk
        yield done
