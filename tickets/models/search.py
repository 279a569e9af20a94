"""The search document of a ticket: what "find anything" matches words against.

One row per ticket: its subject and the text of its messages, segmented once when they are
written (Chinese into jieba words, English into lower-case words; tickets.search). On
PostgreSQL `vector` holds the same words as a `tsvector` (config `simple`) under a GIN index
made by the migration; on SQLite it stays empty and search matches `document` itself.
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

    class Meta:
        verbose_name = _("ticket search document")
        verbose_name_plural = _("ticket search documents")

    def __str__(self) -> str:
        return f"search document of {self.ticket_id}"
