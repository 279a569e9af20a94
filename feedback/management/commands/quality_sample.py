"""Draw a week's quality sample by hand (Celery beat draws last week's every Monday)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from feedback.services.sampling import last_full_week, sample_draw, week_of


class Command(BaseCommand):
    help = "Draw the quality sample of a week (default: last full week); a rerun adds nothing."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--week", help="a day of the week to draw, YYYY-MM-DD")

    def handle(self, *args, week: str | None = None, **options):  # type: ignore[no-untyped-def]
        day = parse_date(week) if week else last_full_week()
        if day is None:
            raise CommandError(f"not a date: {week}")
        added = sample_draw(week=week_of(day))
        self.stdout.write(f"week of {week_of(day).isoformat()}: {len(added)} tickets added")
