"""Recompute every ticket's and every after-sales case's facts and the rollups from scratch
(analytics.facts, analytics.casefacts)."""

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.casefacts import case_rollups_rebuild, casefacts_rebuild
from analytics.facts import facts_rebuild, rollups_rebuild
from analytics.models import TicketFact


class Command(BaseCommand):
    help = (
        "Drop the ticket and case facts and rollups and compute them again from the tickets "
        "and cases (--rollups-only: the rollups from the facts)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk", type=int, default=2000, help="consecutive ticket ids per transaction"
        )
        parser.add_argument(
            "--rollups-only",
            action="store_true",
            help="keep the facts and sum the rollups again from them, set-based (PostgreSQL)",
        )

    def handle(self, *args: Any, chunk: int, rollups_only: bool, **options: Any) -> None:
        started = time.monotonic()
        quiet = options["verbosity"] == 0
        if rollups_only:
            rows = {**rollups_rebuild(), **case_rollups_rebuild()}
            if not quiet:
                counts = ", ".join(f"{table} {n:,}" for table, n in rows.items())
                self.stdout.write(
                    f"rollups rebuilt from {TicketFact.objects.count():,} facts in "
                    f"{time.monotonic() - started:.1f}s ({counts} rows)"
                )
            return
        width = 30

        def progress(done: int, total: int) -> None:
            if quiet:
                return
            share = min(1.0, done / total) if total else 1.0
            bar = "#" * int(share * width)
            rate = done / max(time.monotonic() - started, 1e-6)
            sys.stdout.write(f"\r[{bar:<{width}}] {done:,}/{total:,} tickets ({rate:,.0f}/s)")
            sys.stdout.flush()

        summed_from: list[float] = []

        def summing() -> None:
            summed_from.append(time.monotonic())
            if not quiet:
                sys.stdout.write(
                    f"\nfacts written in {summed_from[0] - started:.1f}s; summing the rollups\n"
                )
                sys.stdout.flush()

        done = facts_rebuild(chunk=chunk, progress=progress, summing=summing)
        tickets_done = time.monotonic()
        cases = casefacts_rebuild()
        if not quiet:
            if not summed_from:
                sys.stdout.write("\n")
            ended = time.monotonic()
            rollups = f" (rollups {tickets_done - summed_from[0]:.1f}s)" if summed_from else ""
            self.stdout.write(
                f"facts and rollups rebuilt for {done:,} tickets in "
                f"{tickets_done - started:.1f}s{rollups}, for {cases:,} after-sales cases in "
                f"{ended - tickets_done:.1f}s"
            )
