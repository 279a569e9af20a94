from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.models import Customer
from tickets.services.audit import command_operator
from tickets.services.privacy import customer_export


class Command(BaseCommand):
    help = (
        "Write a zip archive of everything Kefu holds about a customer (docs/privacy.md). "
        "Recorded in the audit log."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("customer", type=int, help="the customer's id")
        parser.add_argument(
            "--output", "-o", help="where to write the archive (default: customer-<id>.zip)"
        )

    def handle(self, *args, customer: int, output: str | None, **options):  # type: ignore[no-untyped-def]
        record = Customer.objects.filter(pk=customer).first()
        if record is None:
            raise CommandError(f"no customer #{customer}")
        path = Path(output or f"customer-{customer}.zip")
        if path.exists():
            raise CommandError(f"{path} exists; choose another --output")
        with path.open("xb") as destination:
            summary = customer_export(
                customer=record, actor=None, destination=destination, via=command_operator()
            )
        self.stdout.write(
            f"{path}: {summary.files} files, {summary.tickets} tickets, "
            f"{summary.messages} messages, {summary.attachments} attachments"
        )
