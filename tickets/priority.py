"""A ticket's tier and its place in the queue: one rule, used when a ticket opens and when its
tier changes.

Rank orders the queue (lower first): urgent, then VIP customers, then regular, then
value-added. A VIP's ticket is never ranked below VIP, whatever its tier.
"""

from kb.triage import Category, Triage
from tickets.models import PRIORITY_REGULAR, PRIORITY_URGENT, PRIORITY_VALUE_ADDED, PRIORITY_VIP
from tickets.tiers import Tier

_RANK_OF_TIER = {
    Tier.URGENT: PRIORITY_URGENT,
    Tier.REGULAR: PRIORITY_REGULAR,
    Tier.VALUE_ADDED: PRIORITY_VALUE_ADDED,
}


def tier_for(triage: Triage) -> Tier:
    """The tier triage puts a new ticket in."""
    if triage.is_urgent:
        return Tier.URGENT
    if triage.category == Category.VALUE_ADDED:
        return Tier.VALUE_ADDED
    return Tier.REGULAR


def priority_rank(*, tier: str, is_vip: bool) -> int:
    rank = _RANK_OF_TIER.get(Tier(tier), PRIORITY_REGULAR)
    return min(rank, PRIORITY_VIP) if is_vip else rank
