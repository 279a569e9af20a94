"""Should we send an automatic acknowledgement to this mail? Not if a machine sent it.

Two auto-responders answering each other fill both mailboxes within minutes; an
acknowledgement to a list reaches everyone on it; one to a bounce bounces again. RFC 3834
says what a well-behaved sender marks (Auto-Submitted, Precedence); Microsoft, QQ Mail and
NetEase add their own markers; mailer daemons mark nothing but their name. A mail still
becomes a ticket — this only decides whether a robot may answer it.
"""

from collections.abc import Collection, Mapping

from channels_ingest.email.parsed import Address

_SYSTEM_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon"}
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
# Presence alone marks an auto-reply: X-Autoreply (QQ Mail, NetEase and cPanel vacation),
# X-Autorespond (various), X-Auto-Reply.
_AUTO_REPLY_MARKERS = ("x-autoreply", "x-autorespond", "x-auto-reply")


def auto_reason(
    *,
    headers: Mapping[str, list[str]],
    sender: Address,
    message_id: str,
    own_addresses: Collection[str],
    own_message_id_domains: Collection[str],
) -> str:
    """Why no automatic answer may go to this mail; "" when one may.

    `headers` maps lower-case names to their raw values. `own_addresses` are our mailboxes
    (`kefu@shop.cn`), or whole domains written `@shop.cn`; `own_message_id_domains` are the
    right-hand sides of the Message-IDs our outbound mail carries.
    """
    submitted = _first(headers, "auto-submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = _first(headers, "precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    suppress = _first(headers, "x-auto-response-suppress").strip()
    if suppress and suppress.lower() != "none":
        return f"X-Auto-Response-Suppress: {suppress}"
    for name in _AUTO_REPLY_MARKERS:
        if name in headers:
            return f"{name} header present"
    local_part = sender.email.rsplit("@", 1)[0].lower()
    if local_part in _SYSTEM_SENDERS:
        return f"sent by {local_part}"
    if is_own_mail(
        sender=sender,
        message_id=message_id,
        own_addresses=own_addresses,
        own_message_id_domains=own_message_id_domains,
    ):
        return "our own mail"
    return_path = _first(headers, "return-path").strip()
    if return_path in {"<>", "< >"}:
        # A null envelope sender is how RFC 3834 and RFC 5321 mark notifications.
        return "null Return-Path"
    return ""


def is_own_mail(
    *,
    sender: Address,
    message_id: str,
    own_addresses: Collection[str],
    own_message_id_domains: Collection[str],
) -> bool:
    address = sender.email.lower()
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    for own in own_addresses:
        own = own.strip().lower()
        if own and (address == own or (own.startswith("@") and domain == own[1:])):
            return True
    id_domain = message_id.rsplit("@", 1)[-1].lower() if "@" in message_id else ""
    return bool(id_domain) and id_domain in {d.strip().lower() for d in own_message_id_domains}


def _first(headers: Mapping[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""
