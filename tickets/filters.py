"""Ticket filters shared by the queue, saved views and search: what they are, the form that
reads them from a query string, and the queryset they narrow.

A filter set is stored in a saved view as the query-string values the form takes
(`TicketFilters.as_params`), so a saved view is the queue's URL without its page."""

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Agent, Channel, SlaState, Status, Team, Ticket
from tickets.tiers import Tier

# "open": any open status (the queue's default), "any": every status.
STATUS_OPEN = "open"
STATUS_ANY = "any"
ASSIGNEE_NONE = "none"


@dataclass(frozen=True)
class TicketFilters:
    status: str = ""  # a Status, STATUS_OPEN, STATUS_ANY or "" (the page's default)
    team: int | None = None
    assignee: str = ""  # an agent's id, ASSIGNEE_NONE or ""
    channel: str = ""
    category: str = ""
    tier: str = ""
    tag: str = ""
    sla_state: str = ""
    opened_from: date | None = None
    opened_to: date | None = None

    @property
    def is_empty(self) -> bool:
        return self == TicketFilters()

    def as_params(self) -> dict[str, str]:
        """The non-empty filters as query-string values (and as a saved view keeps them)."""
        params: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value is None or value == "":
                continue
            params[name] = value.isoformat() if isinstance(value, date) else str(value)
        return params


def _choices(choices: Any, *extra: tuple[str, Any]) -> list[tuple[str, Any]]:
    return [("", "—"), *extra, *choices]


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(
            Status.choices, (STATUS_OPEN, _("Any open")), (STATUS_ANY, _("Any status"))
        ),
    )
    team = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.order_by("name")
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_choices(Channel.choices)
    )
    category = forms.CharField(label=_("Category"), required=False, max_length=50)
    tier = forms.ChoiceField(label=_("Priority"), required=False, choices=_choices(Tier.choices))
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    sla_state = forms.ChoiceField(
        label=_("SLA"), required=False, choices=_choices(SlaState.choices)
    )
    opened_from = forms.DateField(
        label=_("Opened from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    opened_to = forms.DateField(
        label=_("Opened until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = Agent.objects.select_related("user").order_by("user__username")
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "—"),
            (ASSIGNEE_NONE, _("Unassigned")),
            *((str(agent.pk), str(agent)) for agent in agents),
        ]

    def filters(self) -> TicketFilters:
        """The valid filters; a field with a bad value is left out (a stale link or a saved
        view naming a deleted team still opens)."""
        if not self.is_bound:
            return TicketFilters()
        self.is_valid()
        data = self.cleaned_data
        team = data.get("team")
        return TicketFilters(
            status=data.get("status") or "",
            team=team.pk if team else None,
            assignee=data.get("assignee") or "",
            channel=data.get("channel") or "",
            category=(data.get("category") or "").strip(),
            tier=data.get("tier") or "",
            tag=(data.get("tag") or "").strip(),
            sla_state=data.get("sla_state") or "",
            opened_from=data.get("opened_from"),
            opened_to=data.get("opened_to"),
        )


def filters_from(params: Any) -> TicketFilters:
    """The filters in a query string (a QueryDict or a saved view's dict)."""
    names = TicketFilterForm.base_fields.keys()
    data = {name: params.get(name, "") for name in names if params.get(name, "")}
    return TicketFilterForm(data).filters() if data else TicketFilters()


def day_start(day: date) -> datetime:
    """The start of the site's local day."""
    return timezone.make_aware(datetime.combine(day, time.min))


def filters_apply(
    tickets: QuerySet[Ticket], filters: TicketFilters, *, default_status: str = STATUS_ANY
) -> QuerySet[Ticket]:
    """`tickets` narrowed by `filters`; with no status filter, by `default_status`."""
    status = filters.status or default_status
    if status == STATUS_OPEN:
        tickets = tickets.filter(is_open=True)
    elif status != STATUS_ANY:
        tickets = tickets.filter(status=status)
    if filters.team is not None:
        tickets = tickets.filter(team_id=filters.team)
    if filters.assignee == ASSIGNEE_NONE:
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        tickets = tickets.filter(assignee_id=int(filters.assignee))
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    if filters.category:
        tickets = tickets.filter(category=filters.category)
    if filters.tier:
        tickets = tickets.filter(tier=filters.tier)
    if filters.tag:
        tickets = tickets.filter(_has_tag(filters.tag))
    if filters.sla_state:
        tickets = tickets.filter(sla_state=filters.sla_state)
    # Days are the site's local days, the "to" day included.
    if filters.opened_from is not None:
        tickets = tickets.filter(created_at__gte=day_start(filters.opened_from))
    if filters.opened_to is not None:
        tickets = tickets.filter(created_at__lt=day_start(filters.opened_to + timedelta(days=1)))
    return tickets


def _has_tag(tag: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])
    # SQLite has no JSON containment: the tag, JSON-encoded as the list stores it, quotes
    # included, so "vip" does not match "vip-gold".
    return Q(tags__icontains=json.dumps(tag))
