from django.core.management.base import BaseCommand, CommandError

from tickets.models import Customer
from tickets.services.audit import command_operator
from tickets.services.privacy import PrivacyRefused, customer_erase


class Command(BaseCommand):
    help = (
        "Erase a customer's personal data on request, keeping anonymous statistics "
        "(docs/privacy.md). Asks to type the customer's id again unless --yes. Cannot be "
        "undone. Recorded in the audit log."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("customer", type=int, help="the customer's id")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, customer: int, yes: bool, **options):  # type: ignore[no-untyped-def]
        record = Customer.objects.filter(pk=customer).first()
        if record is None:
            raise CommandError(f"no customer #{customer}")
        if not yes:
            answer = input(
                f"Erase customer #{customer} for good? Type the id again to confirm: "
            ).strip()
            if answer != str(customer):
                raise CommandError("not confirmed; nothing was erased")
        try:
            summary = customer_erase(customer=record, actor=None, via=command_operator())
        except PrivacyRefused as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            f"customer #{customer} erased: {summary.tickets} tickets, {summary.messages} "
            f"messages, {summary.attachments} attachments, {summary.identities} identities, "
            f"{summary.calls} calls anonymised; "
            + ", ".join(f"{name}: {count} rows" for name, count in summary.elsewhere.items())
        )
