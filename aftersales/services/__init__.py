"""Every write of after-sales, one module per job: order snapshots (`orders`), opening a
case (`cases`), its steps (`progress`), the shop's events (`events`), and the history every
step leaves (`history`)."""

from aftersales.services.cases import ItemClaim, case_open
from aftersales.services.event_inbox import EventResult, case_apply_event, event_receive
from aftersales.services.events import EVENT_KINDS
from aftersales.services.orders import order_upsert
from aftersales.services.progress import (
    case_cancel,
    case_complete,
    case_goods_received,
    case_receive,
    case_refund,
    case_repaired,
    case_replacement_shipped,
    case_return_tracking,
    case_review,
)

__all__ = [
    "EVENT_KINDS",
    "EventResult",
    "ItemClaim",
    "case_apply_event",
    "case_cancel",
    "case_complete",
    "case_goods_received",
    "case_open",
    "case_receive",
    "case_refund",
    "case_repaired",
    "case_replacement_shipped",
    "case_return_tracking",
    "case_review",
    "event_receive",
    "order_upsert",
]
