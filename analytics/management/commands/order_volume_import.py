"""Store the shop's orders per day from a CSV file (`day,orders` per line, a header line
allowed), for shops that do not report them through the API (docs/metrics.md)."""

import csv
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from analytics.services import ORDER_DAYS_MAX, order_volume_store


class Command(BaseCommand):
    help = "Store the shop's orders per day from a CSV file of day,orders lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a CSV file: day (YYYY-MM-DD),orders")

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        days: list[tuple[date, int]] = []
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                for number, row in enumerate(csv.reader(handle), start=1):
                    if not row or not "".join(row).strip():
                        continue
                    if len(row) < 2:
                        raise CommandError(f"line {number}: expected day,orders")
                    try:
                        day, orders = date.fromisoformat(row[0].strip()), int(row[1].strip())
                    except ValueError as error:
                        if number == 1:
                            continue  # a header
                        raise CommandError(f"line {number}: {error}") from error
                    days.append((day, orders))
        except OSError as error:
            raise CommandError(str(error)) from error
        if len({day for day, _orders in days}) < len(days):
            raise CommandError("a day is given twice; nothing stored")
        stored = 0
        try:
            with transaction.atomic():  # the whole file or nothing
                for start in range(0, len(days), ORDER_DAYS_MAX):
                    stored += order_volume_store(
                        days=days[start : start + ORDER_DAYS_MAX], source=f"import:{path}"[:100]
                    )
        except ValueError as error:
            raise CommandError(f"{error}; nothing stored") from error
        self.stdout.write(f"{stored} days of orders stored")
