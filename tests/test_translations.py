"""The Chinese catalogue is complete: every entry translated, none left as a guess (fuzzy:
gettext shows those in English), and the compiled catalogue answers as the source says."""

import re
from pathlib import Path

from django.utils import translation

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def _entries() -> list[str]:
    text = CATALOGUE.read_text(encoding="utf-8")
    # Entries are separated by blank lines; obsolete ones (#~) are not compiled.
    return [
        block
        for block in text.split("\n\n")
        if "\nmsgid " in f"\n{block}" and not block.lstrip().startswith("#~")
    ]


def _strings(block: str, keyword: str) -> list[str]:
    """The text of each `keyword "…"` in an entry, continuation lines joined."""
    found: list[str] = []
    current: list[str] | None = None
    for line in block.splitlines():
        if re.match(rf"{re.escape(keyword)}(\[\d+\])? ", line):
            current = [line.split(" ", 1)[1][1:-1]]
            found.append("")
        elif line.startswith('"') and current is not None:
            current.append(line[1:-1])
        else:
            current = None
        if current is not None:
            found[-1] = "".join(current)
    return found


def test_no_entry_is_a_guess_or_left_empty():
    guessed, empty = [], []
    for block in _entries():
        msgid = _strings(block, "msgid")[0]
        if not msgid:
            continue  # the header
        if re.search(r"^#,.*\bfuzzy\b", block, re.MULTILINE):
            guessed.append(msgid)
        if any(not text for text in _strings(block, "msgstr")):
            empty.append(msgid)
    assert guessed == []
    assert empty == []


def test_the_compiled_catalogue_answers_in_chinese():
    with translation.override("zh-hans"):
        assert translation.gettext("Retry") == "重试"
        assert translation.gettext("Automatic reply") == "自动回复"
        line = translation.ngettext(
            "%(attempts)s attempt failed; trying again",
            "%(attempts)s attempts failed; trying again",
            2,
        )
        assert line % {"attempts": 2} == "已失败 2 次，正在重试"
