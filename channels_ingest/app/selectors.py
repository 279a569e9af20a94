"""Reads for the shop's app: a user's conversation, page by page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from channels_ingest.models import PushToken
from tickets.models import Channel, Direction, IdentityKind, Message

MAX_PAGE_SIZE = 200
# Devices named in one outbound message; an account with more keeps its newest.
MAX_PUSH_TOKENS = 20
# The cursor does not move past messages younger than this. Ids are handed out when a row
# is inserted, not when it commits, so a slower transaction can still commit a smaller id
# than one already read; holding the cursor back re-reads the last moments (the app drops
# repeats by id) rather than skipping such a message for ever.
SETTLE = timedelta(seconds=5)


@dataclass(frozen=True)
class ConversationPage:
    messages: list[Message]
    next_cursor: str  # pass as `since` next time
    has_more: bool  # another page follows at once


def cursor_parse(cursor: str) -> int:
    """A cursor is opaque to the app (it is a message id). Raises ValueError."""
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValueError("malformed cursor")
    return int(cursor)


def conversation_messages(
    *, user_id: str, since: str, limit: int, now: datetime
) -> ConversationPage:
    """The public messages (customer messages and replies, never notes) of an app user's
    tickets on the app channel, oldest first, after the cursor; keyset on the message id, so
    the order is stable. Raises ValueError for a malformed cursor."""
    after = cursor_parse(since)
    rows = list(
        Message.objects.filter(
            pk__gt=after,
            channel=Channel.APP,
            direction__in=[Direction.IN, Direction.OUT],
            ticket__customer__identities__kind=IdentityKind.APP_USER,
            ticket__customer__identities__value=user_id,
        )
        .select_related("ticket", "author__user")
        .order_by("pk")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = after
    for message in rows:
        if message.created_at > now - SETTLE and not has_more:
            break
        # A full page always moves on, so paging through a burst never stalls.
        cursor = message.pk
    return ConversationPage(
        messages=rows, next_cursor=str(cursor) if cursor else "", has_more=has_more
    )


def push_tokens_for(*, user_id: str) -> list[dict[str, str]]:
    """The user's registered devices, most recently registered first."""
    return [
        {"platform": platform, "token": token}
        for platform, token in PushToken.objects.filter(user_id=user_id)
        .order_by("-updated_at", "-pk")
        .values_list("platform", "token")[:MAX_PUSH_TOKENS]
    ]
