from django.core.management.base import BaseCommand
from django.utils import timezone

from tickets.personal_data import retention_kinds
from tickets.services.retention import retention_run


class Command(BaseCommand):
    help = (
        "Delete or anonymise personal data past its retention period (docs/privacy.md); "
        "--dry-run only reports, per kind, how many rows would be affected."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")

    def handle(self, *args, dry_run: bool, **options):  # type: ignore[no-untyped-def]
        counts = retention_run(now=timezone.now(), dry_run=dry_run)
        verb = "would be affected" if dry_run else "done"
        for kind in retention_kinds():
            self.stdout.write(f"{kind.name}: {counts[kind.name]} {verb} ({kind.description})")
