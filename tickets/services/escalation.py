"""Where an SLA warning, breach or escalation level lands on a ticket: the receiver of the
SLA engine's one signal (sla/signals.py), the trail, and each escalation action.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from sla import selectors as sla_selectors
from sla.models import EscalationAction, EscalationRule, SlaClock
from tickets import events
from tickets.models import (
    Agent,
    AgentStatus,
    EventKind,
    Team,
    Ticket,
)
from tickets.services.assignment import assignee_pick, needs_of
from tickets.services.notifications import notifications_create
from tickets.services.sla_clocks import sla_refresh
from tickets.services.trail import event_record, ticket_publish
from tickets.services.workflow import ticket_set_tier
from tickets.tiers import Tier


def ticket_record_sla(
    *, clock: SlaClock, kind: str, rule: EscalationRule | None, at: datetime
) -> None:
    """React to a warning, breach or escalation level that the SLA engine fired (exactly once
    per clock and level, inside the engine's claiming transaction)."""
    ticket = (
        Ticket.objects.select_related("customer", "assignee__user")
        .filter(pk=clock.subject_id)
        .first()
    )
    if ticket is None:
        return
    if kind == "escalation" and rule is not None:
        _escalate(ticket=ticket, clock=clock, rule=rule, now=at)
        return
    ticket.save(update_fields=sla_refresh(ticket))
    event_record(
        ticket=ticket,
        kind=EventKind.SLA_BREACH if kind == "breach" else EventKind.SLA_WARNING,
        actor=None,
        data={"milestone": clock.milestone, "due_at": clock.due_at.isoformat()},
        at=at,
    )
    ticket_publish(ticket, events.sla_fired(ticket, milestone=clock.milestone, kind=kind))


def _escalate(*, ticket: Ticket, clock: SlaClock, rule: EscalationRule, now: datetime) -> None:
    milestone = str(clock.get_milestone_display())
    text = _("%(number)s: %(milestone)s overdue (escalation level %(level)d)") % {
        "number": ticket.number,
        "milestone": milestone,
        "level": rule.level,
    }
    hold_until = now
    if rule.hold_outside_hours:
        hold_until = sla_selectors.work_calendar(clock.calendar_id).next_open(now)
    done: dict[str, object] = {"milestone": clock.milestone, "level": rule.level}
    if rule.action == EscalationAction.NOTIFY_ASSIGNEE:
        recipients = [ticket.assignee.user] if ticket.assignee else supervisors_of(ticket)
        done["notified"] = notifications_create(
            users=recipients,
            ticket=ticket,
            kind="escalation",
            text=text,
            deliver_after=hold_until,
            now=now,
        )
    elif rule.action == EscalationAction.NOTIFY_SUPERVISOR:
        done["notified"] = notifications_create(
            users=supervisors_of(ticket),
            ticket=ticket,
            kind="escalation",
            text=text,
            deliver_after=hold_until,
            now=now,
            email=True,
        )
    elif rule.action == EscalationAction.RAISE_PRIORITY:
        higher = {Tier.VALUE_ADDED: Tier.REGULAR, Tier.REGULAR: Tier.URGENT}.get(Tier(ticket.tier))
        if higher is not None:
            ticket_set_tier(ticket=ticket, tier=higher, actor=None, reason=f"escalation {text}")
            done["tier"] = str(higher)
        else:
            # Nothing is above urgent: the next step up is the department head.
            done.update(_to_head_and_reassign(ticket=ticket, rule=rule, text=text, now=now))
    elif rule.action == EscalationAction.HEAD_AND_REASSIGN:
        done.update(_to_head_and_reassign(ticket=ticket, rule=rule, text=text, now=now))
    elif rule.action == EscalationAction.REASSIGN:
        team = Team.objects.filter(pk=int(rule.target)).first() if rule.target.isdigit() else None
        if team is not None and team.pk != ticket.team_id:
            ticket.team = team
            needs = needs_of(ticket)
            ticket.assignee = assignee_pick(needs=needs, now=now) if needs else None
            ticket.save(update_fields=["team", "assignee", "updated_at"])
            done["team"] = team.pk
    event_record(
        ticket=ticket, kind=EventKind.ESCALATED, actor=None, data={**done, "action": rule.action}
    )
    ticket_publish(ticket, events.ticket_updated(ticket))


def _to_head_and_reassign(
    *, ticket: Ticket, rule: EscalationRule, text: str, now: datetime
) -> dict[str, object]:
    """Tell the department head (the supervisors of the ticket's team, else all supervisors)
    at once, by notification and email, and give the ticket to someone else: the least
    loaded available agent of the rule's target team when it names one, else of the
    ticket's own team other than the current assignee. The assignment is kept when nobody
    else is available."""
    done: dict[str, object] = {
        "notified": notifications_create(
            users=supervisors_of(ticket),
            ticket=ticket,
            kind="escalation",
            text=text,
            deliver_after=now,
            now=now,
            email=True,
        )
    }
    target = rule.target.strip()
    team = Team.objects.filter(pk=int(target)).first() if target.isdigit() else None
    team_id = team.pk if team is not None else ticket.team_id
    if team_id is None:
        return done
    agent = _least_loaded_other_agent(team_id=team_id, excluding=ticket.assignee_id)
    fields = []
    if team is not None and team.pk != ticket.team_id:
        ticket.team = team
        fields.append("team")
        done["team"] = team.pk
    if agent is not None and agent.pk != ticket.assignee_id:
        ticket.assignee = agent
        fields.append("assignee")
        done["assignee"] = agent.pk
    if fields:
        ticket.save(update_fields=[*fields, "updated_at"])
    return done


def _least_loaded_other_agent(*, team_id: int, excluding: int | None) -> Agent | None:
    open_load = Count("tickets", filter=Q(tickets__is_open=True))
    candidates = Agent.objects.filter(
        teams=team_id, is_available=True, status=AgentStatus.ONLINE, user__is_active=True
    )
    if excluding is not None:
        candidates = candidates.exclude(pk=excluding)
    return (
        candidates.annotate(load=open_load)
        .filter(load__lt=F("capacity"))
        .order_by("load", "pk")
        .first()
    )


def supervisors_of(ticket: Ticket) -> list[User]:
    supervisors = User.objects.filter(groups__name="supervisor", is_active=True)
    of_team = (
        list(supervisors.filter(agent__teams=ticket.team_id).distinct()) if ticket.team_id else []
    )
    return of_team or list(supervisors.distinct())


def on_clock_fired(
    sender: type,
    *,
    clock: SlaClock,
    kind: str,
    rule: EscalationRule | None,
    at: datetime,
    **_: Any,
) -> None:
    """The receiver of the SLA engine's one signal (sla/signals.py), connected in
    tickets/apps.py."""
    ticket_record_sla(clock=clock, kind=kind, rule=rule, at=at)
