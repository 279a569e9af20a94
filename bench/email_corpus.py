"""Inbound email parsing against third-party corpora, and its throughput.

    .venv/bin/python bench/email_corpus.py [--generated 2000] [--seed 7]

1. Every message file under `$KEFU_SHARED_DATA/email` (default: `../shared/data` next to the
   repository; the benchmark says so and skips this part when it is missing) goes through
   `manage.py parse_email` in one call. Counted: files, files that yielded a JSON line with
   no exception caught by the parser's safety net (`parsed_ok`; target: all), exceptions.
2. For `mime4j_testmsgs`, every decoded leaf part, numbered as Apache mime4j numbers them
   (`X_decoded_1_2.txt` is the second child of the root multipart, `_1_1` the body of an
   attached message at the root), is compared byte for byte with the expectation files.
   mime4j's own reading of broken structure (double boundaries, headers without a blank
   line) is not always ours; the mismatches are listed on stderr.
3. The `django_helpdesk_email` expectations (subject and body text) are checked.
4. Throughput: `--generated` mails built in memory (UTF-8, GBK, Big5, ISO-2022-JP and
   windows-1252; plain, plain+HTML and HTML-only; base64, quoted-printable and 8bit; 20 %
   with a 10-200 KB attachment) are parsed in one process: parses per second and peak RSS.

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import quopri
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue`: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

from bench.common import ROOT, emit, log  # noqa: E402

# Files beside the messages that are expectations or licences, not mail.
_NOT_MAIL_SUFFIXES = {".xml", ".out", ".json", ".bin"}
_NOT_MAIL_NAMES = {"README", "ARTISTIC-LICENSE", "LICENSE"}
_SAFETY_NET = ("could not parse",)


def shared_email_dir() -> Path:
    base = os.environ.get("KEFU_SHARED_DATA") or str(ROOT.parent / "shared" / "data")
    return Path(base) / "email"


def message_files(root: Path) -> list[Path]:
    """The mail in the corpora: mime4j's `.msg` files, everything else that is not an
    expectation (`*_decoded_*`, `.xml`, `.out`, `expected.json`) or a licence."""
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stem in _NOT_MAIL_NAMES or "_decoded_" in path.name:
            continue
        if path.suffix.lower() in _NOT_MAIL_SUFFIXES:
            continue
        corpus = path.relative_to(root).parts[0]
        if corpus.startswith("mime4j") and path.suffix != ".msg":
            continue
        files.append(path)
    return files


def setup_django() -> None:
    # parse_email touches no database; any settings module that loads will do.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("SECRET_KEY", "bench-email-corpus")
    import django

    django.setup()


def run_cli(files: list[Path]) -> tuple[list[dict[str, Any]], int]:
    """The JSON objects parse_email printed, and 1 when the command itself raised."""
    from django.core.management import call_command

    out = io.StringIO()
    try:
        call_command("parse_email", *(str(path) for path in files), stdout=out)
    except Exception as error:
        log(f"parse_email raised: {type(error).__name__}: {error}")
        return [json.loads(line) for line in out.getvalue().splitlines()], 1
    return [json.loads(line) for line in out.getvalue().splitlines()], 0


def corpus_figures(root: Path) -> dict[str, Any]:
    files = message_files(root)
    log(f"{len(files)} message files under {root}")
    started = time.perf_counter()
    lines, command_raised = run_cli(files)
    log(f"  parse_email: {len(lines)} JSON lines in {time.perf_counter() - started:.2f}s")
    exceptions = command_raised + max(0, len(files) - len(lines))
    parsed_ok = 0
    for path, line in zip(files, lines, strict=False):
        caught = [e for e in line["errors"] if e.startswith(_SAFETY_NET)]
        if caught:
            exceptions += 1
            log(f"  exception in {path.relative_to(root)}: {caught[0]}")
        else:
            parsed_ok += 1
    return {"files": len(files), "parsed_ok": parsed_ok, "exceptions": exceptions}


def mime4j_figures(root: Path) -> dict[str, int]:
    from channels_ingest.email.transfer import decode_body
    from channels_ingest.email.tree import leaves, parse_tree

    parts = matching = 0
    for message in sorted(root.glob("mime4j_testmsgs/**/*.msg")):
        decoded = {
            leaf.name: decode_body(leaf.part).data
            for leaf in leaves(parse_tree(message.read_bytes()))
        }
        for expected in sorted(message.parent.glob(f"{message.stem}_decoded_*")):
            if expected.suffix not in {".txt", ".bin"}:
                continue
            name = expected.stem.removeprefix(f"{message.stem}_decoded_")
            parts += 1
            if decoded.get(name) == expected.read_bytes():
                matching += 1
            else:
                log(f"  mime4j mismatch: {message.stem} part {name}")
    log(f"mime4j: {matching} of {parts} decoded leaf parts match")
    return {"mime4j_parts": parts, "mime4j_parts_matching": matching}


def helpdesk_figures(root: Path) -> dict[str, int]:
    from channels_ingest.email import parse_message

    folder = root / "django_helpdesk_email"
    expectations_file = folder / "expected.json"
    if not expectations_file.exists():
        return {"helpdesk_checks": 0, "helpdesk_checks_passed": 0}
    checks = passed = 0
    for name, expected in json.loads(expectations_file.read_text()).items():
        if name.startswith("_"):
            continue
        parsed = parse_message((folder / name).read_bytes())
        results = {
            "title": parsed.subject == expected.get("title"),
            "title_prefix": parsed.subject.startswith(expected.get("title_prefix", "\0")),
            "description": parsed.text == expected.get("description"),
            "description_stripped": parsed.text.strip() == expected.get("description_stripped"),
            "description_contains": expected.get("description_contains", "\0") in parsed.text,
            "forwarded_part_text": expected.get("forwarded_part_text", "\0") in parsed.quoted_text,
        }
        for key, ok in results.items():
            if key in expected:
                checks += 1
                passed += ok
                if not ok:
                    log(f"  django-helpdesk expectation {key} of {name} not met")
    log(f"django-helpdesk: {passed} of {checks} expectations met")
    return {"helpdesk_checks": checks, "helpdesk_checks_passed": passed}


# --- generated mail ------------------------------------------------------------------------

_TEXTS = {
    "utf-8": "您好，我在11月20日下的订单（鲜果礼盒）还没有收到，物流三天没有更新了，请帮忙查一下。",
    "gbk": "收到的草莓有一半压坏了，要求退款或者补发，照片见附件。订单号 88123。",
    "big5": "請問我的訂單什麼時候發貨？退貨流程是怎樣的？謝謝您的幫忙。",
    "iso-2022-jp": "ご注文の商品がまだ届いておりません。ご確認をお願いいたします。",
    "windows-1252": "Hello, my order has not arrived yet – could you check? Thanks, “Zoë”",
}


def generated_mail(rng: random.Random, index: int) -> bytes:
    charset = rng.choice(list(_TEXTS))
    text = (_TEXTS[charset] + "\r\n") * rng.randint(1, 12)
    data = text.encode(charset)
    encoded_subject = base64.b64encode(_TEXTS[charset][:12].encode(charset)).decode()
    subject = f"=?{charset}?B?{encoded_subject}?="
    head = (
        f"From: Customer {index} <c{index}@example.cn>\r\nTo: kefu@shop.example\r\n"
        f"Subject: Re: {subject}\r\nDate: Mon, 23 Nov 2026 10:{index % 60:02d}:00 +0800\r\n"
        f"Message-ID: <gen-{index}@example.cn>\r\nIn-Reply-To: <k.{index}@shop.example>\r\n"
        "MIME-Version: 1.0\r\n"
    )

    def leaf(content_type: str, payload: bytes) -> bytes:
        encoding = rng.choice(["base64", "quoted-printable", "8bit"])
        if charset == "iso-2022-jp":
            encoding = "7bit"
        body = {
            "base64": lambda: base64.encodebytes(payload),
            "quoted-printable": lambda: quopri.encodestring(payload),
        }.get(encoding, lambda: payload)()
        return (
            f"Content-Type: {content_type}; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
        ).encode() + body

    html = b"<html><body><p>" + data.replace(b"\r\n", b"</p><p>") + b"</p></body></html>"
    shape = rng.random()
    if shape < 0.4:
        body = leaf("text/plain", data)
    elif shape < 0.85:
        body = _multipart("alternative", [leaf("text/plain", data), leaf("text/html", html)], index)
    else:
        body = leaf("text/html", html)
    if rng.random() < 0.2:
        attachment = rng.randbytes(rng.randint(10_000, 200_000))
        attached = (
            b'Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename="photo.jpg"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(attachment)
        )
        body = _multipart("mixed", [body, attached], index + 1_000_000)
    return head.encode() + body


def _multipart(kind: str, parts: list[bytes], index: int) -> bytes:
    boundary = f"=_b{index}_{kind}".encode()
    joined = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    header = b'Content-Type: multipart/%s; boundary="%s"\r\n\r\n' % (kind.encode(), boundary)
    return header + joined + b"--" + boundary + b"--\r\n"


def throughput_figures(*, count: int, seed: int) -> dict[str, Any]:
    from channels_ingest.email import parse_message

    rng = random.Random(seed)
    mails = [generated_mail(rng, index) for index in range(count)]
    size_mb = sum(len(mail) for mail in mails) / 1e6
    log(f"generated {count} mails, {size_mb:.1f} MB")
    started = time.perf_counter()
    failures = 0
    for mail in mails:
        parsed = parse_message(mail)
        failures += not parsed.text or any(e.startswith(_SAFETY_NET) for e in parsed.errors)
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log(f"  {rate:.0f} parses/s ({size_mb / elapsed:.1f} MB/s), {failures} without text")
    return {
        "generated_mails": count,
        "generated_failures": failures,
        "parse_rate_per_s": round(rate, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    setup_django()
    figures: dict[str, Any] = {
        "files": 0,
        "parsed_ok": 0,
        "exceptions": 0,
        "mime4j_parts": 0,
        "mime4j_parts_matching": 0,
    }
    root = shared_email_dir()
    if root.is_dir():
        figures.update(corpus_figures(root))
        figures.update(mime4j_figures(root))
        figures.update(helpdesk_figures(root))
    else:
        reason = f"skipped the corpora: {root} does not exist (set KEFU_SHARED_DATA)"
        print(reason)
        figures["corpora_skipped"] = reason
    figures.update(throughput_figures(count=args.generated, seed=args.seed))
    print(
        f"corpora: {figures['parsed_ok']} of {figures['files']} files parsed without exception; "
        f"mime4j: {figures['mime4j_parts_matching']} of {figures['mime4j_parts']} parts match"
    )
    print(
        f"throughput: {figures['parse_rate_per_s']} parses/s, peak RSS {figures['peak_rss_mb']} MB"
    )
    emit(figures)


if __name__ == "__main__":
    main()
