"""Fit and store the contact forecast now (analytics.forecast), as the nightly task does."""

from typing import Any

from django.core.management.base import BaseCommand

from analytics.forecast import forecast_compute, mape_display


class Command(BaseCommand):
    help = "Compute the contact forecast of the next 14 days and its backtest, and store it."

    def handle(self, *args: Any, **options: Any) -> None:
        run = forecast_compute()
        if options["verbosity"] == 0:
            return
        overall = run.accuracy.get("", {})
        self.stdout.write(
            f"forecast {run.pk}: {len(run.forecast)} channels from {run.history_days} days of "
            f"history; backtest MAPE {mape_display(overall.get('mape'))}, "
            f"WAPE {mape_display(overall.get('wape'))}"
        )
