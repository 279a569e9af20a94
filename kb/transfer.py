"""Articles to and from CSV and JSON files.

Both formats carry the same fields: `id` (the external id: a re-import updates the article
with that id), `kind` (faq/article), `language` (zh-hans/en), `category` (a slug), `title`,
`questions`, `body` (Markdown; `answer` is accepted as its name too), `tags`, `status`
(draft/published). In CSV, questions are separated by new lines or " | " and tags by commas;
in JSON they are lists. A FAQ file with only `id, question, answer` columns imports too:
rows sharing an id become the phrasings of one entry.
"""

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kb.datasets import decode_utf8
from kb.models import Article, ArticleKind, ArticleStatus, Language
from kb.services import ArticleContent, ImportRow

FIELDS = ["id", "kind", "language", "category", "title", "questions", "body", "tags", "status"]
_QUESTION_SPLIT = re.compile(r"\s*(?:\n|\|)\s*")
_TAG_SPLIT = re.compile(r"\s*[,，、]\s*")


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ImportRow]
    errors: list[str]


def _as_list(value: object, pattern: re.Pattern[str]) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in pattern.split(str(value or "").strip()) if part]


def _row(record: dict[str, object], line: int, errors: list[str]) -> ImportRow | None:
    def text(name: str) -> str:
        return str(record.get(name) or "").strip()

    body = text("body") or text("answer")
    questions = _as_list(record.get("questions"), _QUESTION_SPLIT) + _as_list(
        record.get("question"), _QUESTION_SPLIT
    )
    title = text("title") or (questions[0] if questions else "")
    if not title or not body:
        errors.append(f"{line}: a title (or question) and a body (or answer) are needed")
        return None
    kind = text("kind") or ArticleKind.FAQ
    language = text("language") or Language.ZH
    status = text("status") or ArticleStatus.PUBLISHED
    for name, value, allowed in (
        ("kind", kind, ArticleKind.values),
        ("language", language, Language.values),
        ("status", status, ArticleStatus.values),
    ):
        if value not in allowed:
            errors.append(f"{line}: {name} {value!r} is not one of {', '.join(allowed)}")
            return None
    return ImportRow(
        external_id=text("id")[:100],
        status=status,
        category_slug=text("category"),
        content=ArticleContent(
            title=title,
            body=body,
            kind=kind,
            language=language,
            questions=tuple(q for q in questions if q != title),
            tags=tuple(_as_list(record.get("tags"), _TAG_SPLIT)),
        ),
    )


def _merge_same_ids(records: list[tuple[int, dict[str, object]]]) -> list[tuple[int, dict]]:
    """FAQ files list one phrasing per row: rows with the same id become one record."""
    merged: dict[str, tuple[int, dict[str, object]]] = {}
    result: list[tuple[int, dict[str, object]]] = []
    for line, record in records:
        key = str(record.get("id") or "").strip()
        if not key:
            result.append((line, record))
            continue
        if key not in merged:
            merged[key] = (line, dict(record))
            result.append(merged[key])
            continue
        target = merged[key][1]
        extra = _as_list(record.get("question"), _QUESTION_SPLIT) + _as_list(
            record.get("questions"), _QUESTION_SPLIT
        )
        target["questions"] = _as_list(target.get("questions"), _QUESTION_SPLIT) + extra
    return result


def parse(data: bytes, *, filename: str = "") -> ParsedFile:
    """Rows to import from a CSV or JSON file (JSON when the name ends in .json or the content
    starts with `[` or `{`). Nothing is written: `articles_import` does that."""
    text = decode_utf8(data)
    errors: list[str] = []
    records: list[tuple[int, dict[str, object]]] = []
    if filename.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            return ParsedFile([], [f"not valid JSON: {error}"])
        items = loaded.get("articles", []) if isinstance(loaded, dict) else loaded
        if not isinstance(items, list):
            return ParsedFile([], ["expected a list of articles"])
        for number, item in enumerate(items, start=1):
            if isinstance(item, dict):
                records.append((number, item))
            else:
                errors.append(f"{number}: not an object")
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        reader.fieldnames = [c.strip().lower() for c in reader.fieldnames or []]
        records = [(number, dict(row)) for number, row in enumerate(reader, start=2)]
    rows = [_row(record, line, errors) for line, record in _merge_same_ids(records)]
    return ParsedFile([row for row in rows if row is not None], errors)


def _record(article: Article) -> dict[str, object]:
    return {
        "id": article.external_id,
        "kind": article.kind,
        "language": article.language,
        "category": article.category.slug if article.category else "",
        "title": article.title,
        "questions": list(article.questions),
        "body": article.body,
        "tags": list(article.tags),
        "status": article.status,
    }


def export_json(articles: Iterable[Article]) -> str:
    return json.dumps([_record(a) for a in articles], ensure_ascii=False, indent=2)


def export_csv(articles: Iterable[Article]) -> str:
    """CSV with a byte-order mark, so that Excel opens the Chinese correctly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for article in articles:
        record = _record(article)
        record["questions"] = "\n".join(article.questions)
        record["tags"] = ", ".join(article.tags)
        writer.writerow(record)
    return buffer.getvalue()
