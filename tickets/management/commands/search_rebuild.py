import time

from django.core.management.base import BaseCommand

from tickets.models import Ticket
from tickets.services.search_index import search_documents_rebuild


class Command(BaseCommand):
    help = (
        "Make every ticket's search document again from its subject and messages "
        "(docs/search.md): after a change to how text is segmented, or to index tickets "
        "stored before search existed. Safe to run while Kefu is up: one transaction per batch."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--batch", type=int, default=500, help="tickets per transaction")
        parser.add_argument(
            "--start-after", type=int, default=0, help="resume after this ticket id"
        )

    def handle(self, *args, batch: int, start_after: int, **options):  # type: ignore[no-untyped-def]
        total = Ticket.objects.filter(pk__gt=start_after).count()
        started = time.monotonic()
        done = 0
        for done in search_documents_rebuild(batch=batch, start_after=start_after):
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0.0
            self.stdout.write(
                f"\r{done}/{total} tickets ({rate:.0f}/s)", ending="" if done < total else "\n"
            )
            self.stdout.flush()
        self.stdout.write(f"search documents rebuilt: {done} tickets")
