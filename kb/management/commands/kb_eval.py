"""Answer queries from a scratch knowledge base built from a FAQ CSV; nothing is stored."""

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kb.classifier import percentile
from kb.datasets import read_faq_csv, read_queries_csv
from kb.search import IndexEntry, SearchIndex

RANKS = 10  # MRR counts an answer found within the first ten results


class Command(BaseCommand):
    help = (
        "Load FAQ entries (CSV: id, question, answer) into a scratch index and answer every "
        "query (CSV: query, expected_id); the last line printed is a JSON object "
        '{"top1", "mrr", "n", "p99_ms"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--faq", required=True)
        parser.add_argument("--queries", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            faq = read_faq_csv(options["faq"])
            queries = read_queries_csv(options["queries"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        ids = {index: entry.id for index, entry in enumerate(faq)}
        started = time.perf_counter()
        index = SearchIndex.build(
            [
                IndexEntry(
                    article_id=position,
                    title=entry.questions[0] if entry.questions else entry.answer[:80],
                    questions=entry.questions[1:],
                    body=entry.answer,
                )
                for position, entry in enumerate(faq)
            ]
        )
        self.stdout.write(
            f"{len(faq)} entries indexed in {time.perf_counter() - started:.2f}s; "
            f"{len(queries)} queries"
        )
        index.search("warm up 预热", limit=1)
        top1 = 0
        reciprocal = 0.0
        timings: list[float] = []
        for query, expected in queries:
            started = time.perf_counter()
            hits = index.search(query, limit=RANKS)
            timings.append((time.perf_counter() - started) * 1000)
            ranked = [ids[hit.article_id] for hit in hits]
            if ranked and ranked[0] == expected:
                top1 += 1
            if expected in ranked:
                reciprocal += 1 / (ranked.index(expected) + 1)
        n = len(queries)
        self.stdout.write(
            json.dumps(
                {
                    "top1": round(top1 / n, 4) if n else 0.0,
                    "mrr": round(reciprocal / n, 4) if n else 0.0,
                    "n": n,
                    "p99_ms": round(percentile(timings, 99), 3),
                }
            )
        )
