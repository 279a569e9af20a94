"""Train on one CSV, evaluate on another; nothing is stored."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kb import classifier
from kb.datasets import read_labelled_csv


class Command(BaseCommand):
    help = (
        "Train a classifier on --train and evaluate it on --test; the last line printed is a "
        'JSON object {"accuracy", "macro_f1", "n_train", "n_test", "ms_per_message_p50"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True)
        parser.add_argument("--test", required=True)
        parser.add_argument("--text-column", required=True)
        parser.add_argument("--label-column", required=True)
        # The two tasks train the same kind of model; the option says what the labels are.
        parser.add_argument("--task", choices=["category", "sentiment"], default="category")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            train = read_labelled_csv(
                options["train"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
            test = read_labelled_csv(
                options["test"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
            model = classifier.fit(train.texts, train.labels)
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        evaluation = classifier.evaluate(model, test.texts, test.labels, n_train=len(train.texts))
        self.stdout.write(
            f"{options['task']}: {len(model.labels)} labels; "
            f"ms per message p99 {evaluation.ms_per_message_p99:.3f}"
        )
        self.stdout.write(
            json.dumps(
                {
                    "accuracy": evaluation.accuracy,
                    "macro_f1": evaluation.macro_f1,
                    "n_train": evaluation.n_train,
                    "n_test": evaluation.n_test,
                    "ms_per_message_p50": evaluation.ms_per_message_p50,
                }
            )
        )
