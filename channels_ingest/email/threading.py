"""Thread keys in a subject and in recipients: reply prefixes, the ticket tag, reply tokens.

Intake tries the strongest key first: our own Message-IDs (In-Reply-To, References), then the
per-ticket reply address, then the ticket tag, and only then a subject comparison — which is
why the subject is compared only after every prefix a mailer may have stacked on it is gone.
"""

import re

# Reply and forward prefixes as mail clients write them: English, Chinese (simplified and
# traditional; Outlook, Foxmail, QQ Mail, NetEase), German (AW, WG), Nordic (SV, VS), Dutch
# (Antw, Doorst), French (TR), Italian (RIF), Spanish (RV). An optional counter
# ("Re[2]:", "Re(3):", "Re^2:") and a full-width colon are accepted.
_PREFIX = re.compile(
    r"""^\s*
    (?:re|fw|fwd|aw|wg|sv|vs|antw|doorst|tr|rif|rv
      |回复|回覆|答复|答覆|转发|轉發|转寄|轉寄)
    \s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*""",
    re.IGNORECASE | re.VERBOSE,
)
# Tags that list servers and corporate gateways put in front of a prefix: "[外部邮件] 回复:",
# "[EXTERNAL] RE:". Removed only when a prefix follows: "[急] 退款" is the customer's subject.
_BRACKET_TAG = re.compile(r"^\s*[\[【][^\]】]{1,30}[\]】]\s*")
# Our ticket tag: "[K#20261122-00071]", also with full-width brackets typed by a Chinese IME.
TICKET_TAG = re.compile(r"[\[【]\s*K\s*#\s*(?P<number>\d{8}-\d{4,})\s*[\]】]", re.IGNORECASE)
_REPLY_TOKEN = re.compile(r"^reply\+(?P<token>[A-Za-z0-9_.=-]+)@", re.IGNORECASE)


def ticket_tag(subject: str) -> str:
    """The ticket number in the subject's tag, or "". The first tag wins: a reply to a
    forwarded ticket mail carries the newest tag first."""
    match = TICKET_TAG.search(subject)
    return match.group("number") if match else ""


def normalise_subject(subject: str) -> str:
    """The subject with stacked reply/forward prefixes, leading bracket tags and our ticket
    tag removed, whitespace collapsed. Case is kept; compare with `casefold()`."""
    text = TICKET_TAG.sub(" ", subject)
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            untagged = _BRACKET_TAG.sub("", text, count=1)
            if untagged == text or not _PREFIX.match(untagged):
                break
            stripped = _PREFIX.sub("", untagged, count=1)
        text = stripped
    return " ".join(text.split())


def reply_token(addresses: list[str]) -> str:
    """TOKEN of the first `reply+TOKEN@…` address among `addresses`, or ""."""
    for address in addresses:
        match = _REPLY_TOKEN.match(address.strip())
        if match:
            return match.group("token")
    return ""
