"""The one door to the channel layer.

Services call `publish_on_commit`; nothing else in Kefu talks to the channel layer. Events are
plain dicts built by `<app>/events.py`; consumers forward them to the browser unchanged.
"""

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("kefu.realtime")

EVENT_HANDLER = "kefu.event"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


BOARD_GROUP = "board"


def publish(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Send `event` to every group now. A failing layer is logged, never raised: the write
    that caused the event has already committed and browsers resynchronise on reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": EVENT_HANDLER, "event": event}
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("realtime publish failed for %s", event.get("type"))


def publish_on_commit(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Publish after the current transaction commits (at once when there is none)."""
    targets = list(groups)
    transaction.on_commit(lambda: publish(targets, event))
