"""The search document of a ticket: what "find anything" matches words against.

One row per ticket: its subject and the text of its messages, segmented once when they are
written (Chinese into jieba words, English into lower-case words; tickets.search). On
PostgreSQL `vector` holds the same words as a `tsvector` (config `simple`) under a GIN index
made by the migration; on SQLite it stays empty and search matches `document` itself.

On PostgreSQL the database keeps two things more on the row, so that a query is answered
from this table and its index: `vector` also holds the access lexemes `team <id>` and
`agent <id>` (the ticket's team and assignee: who may see it, a lexeme with a space that no
text's words can be), and `created_at` copies when the ticket was opened (the order of
results, the date filters). Triggers made by migration 0015 make `vector` from `document`
whenever the row is written and follow the ticket when its team, assignee or opening time
changes, whatever code wrote it (an update() or a bulk write included). On SQLite `vector`
and `created_at` stay empty and search joins the tickets. See
docs/adr/0008-search-document-keeps-copies.md.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.tickets import Ticket


class TicketSearchDocument(models.Model):
    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    # The ticket's words, each once, space-separated, with a space at either end so that a
    # whole word is found as " word " (the SQLite path).
    document = models.TextField(_("words"), blank=True, default="")
    vector = SearchVectorField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The ticket's opening time, copied by PostgreSQL (see the module's docstring).
    created_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("ticket search document")
        verbose_name_plural = _("ticket search documents")

    def __str__(self) -> str:
        return f"search document of {self.ticket_id}"
