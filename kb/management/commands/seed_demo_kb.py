"""Demo help centre for embedded mode: FAQ entries in Chinese and English about delivery,
returns, refunds, the freshness guarantee and membership points (kb/demo/faq.json).

The answer bot, the ticket page's suggestions and `/kb/` answer from them after `make run`.
Running it again changes nothing; an entry edited in `/kb/manage/` is put back.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from kb.models import ArticleCategory, ArticleKind, ArticleStatus
from kb.services import ArticleContent, ImportRow, article_category_save, articles_import

DEMO_FAQ = Path(__file__).resolve().parents[2] / "demo" / "faq.json"


class Command(BaseCommand):
    help = "Load the demo help centre (FAQ in Chinese and English). Idempotent."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        data = json.loads(DEMO_FAQ.read_text(encoding="utf-8"))
        with transaction.atomic():
            for entry in data["categories"]:
                existing = ArticleCategory.objects.filter(slug=entry["slug"]).first()
                if existing is None:
                    article_category_save(
                        slug=entry["slug"],
                        name_zh=entry["name_zh"],
                        name_en=entry["name_en"],
                        position=entry["position"],
                        category=None,
                    )
            result = articles_import(
                rows=[
                    ImportRow(
                        external_id=row["id"],
                        content=ArticleContent(
                            title=row["title"],
                            body=row["body"],
                            kind=ArticleKind.FAQ,
                            language=row["language"],
                            questions=tuple(row["questions"]),
                            tags=tuple(row["tags"]),
                        ),
                        status=ArticleStatus.PUBLISHED,
                        category_slug=row["category"],
                    )
                    for row in data["articles"]
                ],
                author=None,
            )
        if options["verbosity"] > 0:
            self.stdout.write(
                f"demo help centre: {result.created} new, {result.updated} updated, "
                f"{result.unchanged} unchanged"
            )
