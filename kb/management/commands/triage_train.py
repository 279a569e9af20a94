"""Train a triage model version from a CSV and store it (activated if it scores at least as
well as the active one on the same held-out rows)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from kb import services
from kb.datasets import read_labelled_csv
from kb.models import ModelTask


class Command(BaseCommand):
    help = (
        "Train a category (or sentiment) model from a CSV; prints accuracy and macro-F1 on a "
        "stratified held-out 20 %."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, help="UTF-8 CSV file (BOM tolerated)")
        parser.add_argument("--text-column", required=True)
        parser.add_argument("--label-column", required=True)
        parser.add_argument("--name", default="", help="a name for this model version")
        parser.add_argument("--task", choices=ModelTask.values, default=ModelTask.CATEGORY)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rows = read_labelled_csv(
                options["csv"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{len(rows.texts)} rows, {len(set(rows.labels))} labels"
            + (f" ({rows.skipped} rows without text or label skipped)" if rows.skipped else "")
        )
        try:
            result = services.triage_model_train(
                task=options["task"],
                name=options["name"] or options["csv"].rsplit("/", 1)[-1],
                texts=rows.texts,
                labels=rows.labels,
                author=None,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(
                f"could not store the model ({error}); has `manage.py migrate` been run?"
            ) from error
        evaluation = result.evaluation
        self.stdout.write(
            f"held-out 20 %: accuracy {evaluation.accuracy:.4f}, "
            f"macro-F1 {evaluation.macro_f1:.4f} "
            f"(train {evaluation.n_train}, test {evaluation.n_test}; "
            f"{evaluation.ms_per_message_p50:.2f} ms per message p50)"
        )
        model = result.model
        if result.activated:
            self.stdout.write(f"model #{model.pk} ({model.task}) is now active")
        else:
            self.stdout.write(f"model #{model.pk} stored, not activated: {model.note}")
