"""Reading the CSV files that training and evaluation take: labelled texts, FAQ entries and
queries with their expected answers. UTF-8, with or without a byte-order mark."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

# Reviews and emails can be long; the csv module's default field limit (128 KiB) is not.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True)
class LabelledRows:
    texts: list[str]
    labels: list[str]
    skipped: int  # rows without text or label


def decode_utf8(source: bytes | str | Path) -> str:
    raw = Path(source).read_bytes() if isinstance(source, str | Path) else source
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"the file is not UTF-8 ({error})") from error


def _rows(source: bytes | str | Path, required: list[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(decode_utf8(source), newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(
            f"column(s) {', '.join(missing)} not in the file (it has: {', '.join(columns)})"
        )
    reader.fieldnames = columns
    return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def read_labelled_csv(
    source: bytes | str | Path, *, text_column: str, label_column: str
) -> LabelledRows:
    """Texts and labels from a CSV (a path or its bytes); rows missing either are skipped."""
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    for row in _rows(source, [text_column, label_column]):
        text, label = row[text_column].strip(), row[label_column].strip()
        if not text or not label:
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
    if not texts:
        raise ValueError("no rows with both a text and a label")
    return LabelledRows(texts=texts, labels=labels, skipped=skipped)


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: list[str]
    answer: str


def read_faq_csv(source: bytes | str | Path) -> list[FaqEntry]:
    """FAQ entries from a CSV with columns id, question, answer. Rows sharing an id are more
    phrasings of one entry (the first non-empty answer is its answer)."""
    entries: dict[str, FaqEntry] = {}
    for row in _rows(source, ["id", "question", "answer"]):
        key = row["id"].strip()
        question = row["question"].strip()
        if not key or not (question or row["answer"].strip()):
            continue
        entry = entries.get(key)
        if entry is None:
            entries[key] = FaqEntry(key, [question] if question else [], row["answer"].strip())
            continue
        if question and question not in entry.questions:
            entry.questions.append(question)
        if not entry.answer and row["answer"].strip():
            entries[key] = FaqEntry(key, entry.questions, row["answer"].strip())
    return list(entries.values())


def read_queries_csv(source: bytes | str | Path) -> list[tuple[str, str]]:
    """(query, expected id) pairs from a CSV with columns query, expected_id."""
    return [
        (row["query"].strip(), row["expected_id"].strip())
        for row in _rows(source, ["query", "expected_id"])
        if row["query"].strip()
    ]
