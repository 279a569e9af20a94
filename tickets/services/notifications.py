"""Notifications to agents and supervisors: queued, held for business hours when asked,
delivered once to their screens and by email.
"""

import logging
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kefu import realtime
from tickets import events
from tickets.delivery import Outbound, backend_for
from tickets.models import (
    Channel,
    Notification,
    Ticket,
)

logger = logging.getLogger("kefu.tickets")


def notifications_create(
    *,
    users: list[User],
    ticket: Ticket | None,
    kind: str,
    text: str,
    deliver_after: datetime,
    now: datetime,
    email: bool = False,
) -> int:
    """Queue a notification per user; delivered at once when `deliver_after` is not after
    `now`, else by the release task when it comes (held for business hours). Returns how
    many were queued."""
    # Held ones wait for `deliver_after`; the rest go at once, after this transaction commits.
    created = Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                ticket=ticket,
                kind=kind,
                text=text[:500],
                created_at=now,
                deliver_after=max(deliver_after, now),
            )
            for user in users
        ]
    )
    if deliver_after <= now:
        ids = [n.pk for n in created if n.pk is not None]
        transaction.on_commit(lambda: notifications_deliver(ids=ids, email=email, now=now))
    return len(created)


def notifications_deliver(
    *, ids: list[int] | None = None, email: bool = False, now: datetime | None = None
) -> int:
    """Deliver due notifications: pushed to the user's screens, and by email when asked.
    Each is delivered once (a compare-and-set on `delivered_at`)."""
    now = now or timezone.now()
    due = Notification.objects.filter(delivered_at__isnull=True, deliver_after__lte=now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    delivered = 0
    for notification in due.select_related("user", "ticket")[:500]:
        if not Notification.objects.filter(pk=notification.pk, delivered_at__isnull=True).update(
            delivered_at=now
        ):
            continue
        delivered += 1
        # After commit: a page that fetches the list on this event must find it delivered.
        realtime.publish_on_commit(
            [realtime.user_group(notification.user_id)], events.notification(notification)
        )
        if (email or notification.kind == "escalation") and notification.user.email:
            _send_notification_email(notification)
    return delivered


def notification_mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of the user's own notifications read (anyone else's is left alone)."""
    return (
        Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        == 1
    )


def _send_notification_email(notification: Notification) -> None:
    outbound = Outbound(
        channel=Channel.EMAIL,
        to=notification.user.email,
        subject=notification.text[:200],
        body=notification.text,
        ticket_number=notification.ticket.number if notification.ticket else "",
        reference=f"kefu-notification-{notification.pk}",
        kind="notification",
    )
    try:
        backend_for(Channel.EMAIL).send(outbound)
    except Exception:
        logger.exception("could not email notification %s", notification.pk)


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every delivered notification of the user read (the bell's "mark all read");
    one held for business hours stays unread until it is delivered. Returns how many."""
    return Notification.objects.filter(
        user=user, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())
