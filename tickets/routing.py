"""Where new tickets go: the routing rules and the default team, cached per process.

Every new ticket needs them and they change a few times a year, so each process keeps a copy
that follows the "routing" revision (see `kefu.revisions`): an edit to a team or a rule
bumps it (tickets/apps.py), and every process sees the change within seconds.
"""

from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q

from kefu.revisions import RevisionCache
from tickets.models import Agent, AgentStatus, Customer, RoutingRule, Team
from tickets.tiers import Tier

ROUTING_REVISION = "routing"


@dataclass(frozen=True)
class RoutingTable:
    by_category: dict[str, Team]
    default: Team | None

    def team_for(self, category: str | None) -> Team | None:
        """The team of the category's rule, else the default team (None when there is none)."""
        if category and category in self.by_category:
            return self.by_category[category]
        return self.default


def _load() -> RoutingTable:
    by_category: dict[str, Team] = {}
    # The first rule of a category wins, as it did when rules were read one by one.
    for rule in RoutingRule.objects.select_related("team").order_by("pk"):
        by_category.setdefault(rule.category, rule.team)
    default = Team.objects.filter(is_default=True).order_by("pk").first()
    return RoutingTable(by_category=by_category, default=default)


routing_cache: RevisionCache[RoutingTable] = RevisionCache((ROUTING_REVISION,), _load)


def routing_table() -> RoutingTable:
    return routing_cache.get()


def adviser_for(customer: Customer, tier: str) -> Agent | None:
    """The customer's dedicated adviser for a new value-added ticket, when they can take it:
    available, online, active and under their capacity of open tickets. Otherwise None, and the
    ticket goes to its team as usual (urgent and regular work is never held for one person)."""
    if tier != Tier.VALUE_ADDED or customer.adviser_id is None:
        return None
    return (
        Agent.objects.filter(
            pk=customer.adviser_id,
            is_available=True,
            status=AgentStatus.ONLINE,
            user__is_active=True,
        )
        .annotate(load=Count("tickets", filter=Q(tickets__is_open=True)))
        .filter(load__lt=models.F("capacity"))
        .first()
    )
