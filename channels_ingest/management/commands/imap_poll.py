"""`python manage.py imap_poll [--mailbox NAME]`: poll the IMAP mailboxes now.

What Celery beat does every KEFU_IMAP_POLL_SECONDS, run by hand: to check a new mailbox's
settings, or to catch up without a worker. Takes the same lock as beat's polls, so it is
safe to run while they run. Exits non-zero if any poll stopped on an error.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_ingest.email.imap import mailbox_poll
from channels_ingest.models import Mailbox


class Command(BaseCommand):
    help = "Poll the active IMAP mailboxes (or the one named) once and take new mail in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mailbox",
            metavar="NAME",
            help="poll only this mailbox (also when it is not active)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["mailbox"]:
            mailboxes = list(Mailbox.objects.filter(name=options["mailbox"]))
            if not mailboxes:
                raise CommandError(f"no mailbox named {options['mailbox']!r}")
        else:
            mailboxes = list(Mailbox.objects.filter(is_active=True).order_by("name"))
            if not mailboxes:
                self.stdout.write("no active mailboxes")
                return
        failed = []
        for mailbox in mailboxes:
            result = mailbox_poll(mailbox=mailbox)
            if result.locked:
                line = f"{mailbox.name}: skipped, another poll is running"
            else:
                line = f"{mailbox.name}: {result.fetched} fetched, {result.stored} new"
            if result.error:
                line += f"; stopped: {result.error}"
                failed.append(mailbox.name)
            self.stdout.write(line)
        if failed:
            raise CommandError(f"polls stopped on an error: {', '.join(failed)}")
