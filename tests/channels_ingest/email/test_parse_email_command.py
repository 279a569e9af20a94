"""`manage.py parse_email FILE...`: one JSON object per file, in order, never a crash."""

import hashlib
import io
import json
from pathlib import Path

from django.core.management import call_command

MESSAGES = Path(__file__).parent / "messages"
KEYS = [
    "from",
    "to",
    "cc",
    "reply_to",
    "subject",
    "date",
    "message_id",
    "in_reply_to",
    "references",
    "text",
    "html",
    "attachments",
    "errors",
]


def run(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("parse_email", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_prints_one_json_line_per_file_in_the_order_given(tmp_path):
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\xff" * 100)
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.eml"
    files = [
        MESSAGES / "qq_reply_gbk.eml",
        missing,
        garbage,
        empty,
        MESSAGES / "outlook_html_only.eml",
    ]

    lines = run(*(str(path) for path in files))

    assert [list(line) for line in lines] == [KEYS] * 5
    assert [line["subject"] for line in lines] == [
        "回复：[K#20261122-00071] 退款申请",
        "",
        "",
        "",
        "榴莲坏了",
    ]
    assert lines[1]["errors"] == [f"cannot read {missing}: No such file or directory"]
    assert lines[2]["errors"][0] == "no mail headers found"
    assert lines[3]["errors"] == ["empty input"]


def test_prints_the_normalised_fields(tmp_path):
    [line] = run(str(MESSAGES / "outlook_html_only.eml"))
    image = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
    image += b"kefu-test-image"
    assert line["from"] == {"name": "李四", "email": "lisi@outlook.example"}
    assert line["to"] == [{"name": "", "email": "kefu@xianguo.example"}]
    assert (line["cc"], line["reply_to"]) == ([], [])
    assert line["date"] == "2026-11-23T09:30:00+08:00"
    assert line["message_id"] == "AM0PR01MB1234@outlook.example"
    assert line["attachments"][0] == {
        "filename": "image001.png",
        "content_type": "image/png",
        "size": len(image),
        "md5": hashlib.md5(image, usedforsecurity=False).hexdigest(),
        "content_id": "part1.photo@outlook.example",
    }
    assert line["errors"] == []


def test_full_flag_adds_thread_keys_and_loop_guard_fields():
    [line] = run("--full", str(MESSAGES / "dsn_failed.eml"))
    assert line["is_bounce"] is True
    assert line["bounced_message_id"] == "k.20261122-00071.4@xianguo.example"
    assert line["auto_reason"] == "Auto-Submitted: auto-replied"


def test_a_directory_instead_of_a_file_gets_an_error_line(tmp_path):
    [line] = run(str(tmp_path))
    assert line["errors"] == [f"cannot read {tmp_path}: Is a directory"]
