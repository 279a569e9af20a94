"""A customer's plain-text mail as a mail provider would post it to the inbound webhook."""

from tests.channels_ingest.email.raw import mail


def customer_mail(
    message_id: str, *, subject: str = "订单破损", body: str = "收到的杯子碎了", extra: tuple = ()
) -> bytes:
    return mail(
        "From: =?utf-8?b?5byg5Lyf?= <zhang.wei@example.com>",
        "To: support@kefu.localhost",
        f"Subject: {subject}",
        f"Message-ID: <{message_id}>",
        "Date: Mon, 23 Nov 2026 10:00:00 +0800",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        *extra,
        body=body,
    )
