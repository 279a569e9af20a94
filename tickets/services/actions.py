"""What agents do to a ticket besides answering it: transfer it to another team or agent with
a note, change its category, tags and custom fields, link it to related tickets, ask the team
that owns a ticket for access, and close spam.

Every action takes the ticket as the caller may see it (the views check with
`tickets.selectors.ticket_for`), records an entry on the ticket's trail and in the audit log,
and tells whoever watches the ticket after commit.
"""

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu import realtime
from kefu.roles import Role, has_role
from sla import services as sla_services
from tickets import events
from tickets.models import (
    Agent,
    CustomField,
    CustomFieldType,
    EventKind,
    Status,
    Team,
    Ticket,
    TicketLink,
    TicketTransfer,
)
from tickets.services.audit import audit_record
from tickets.services.notifications import notifications_create
from tickets.services.sla_clocks import sla_attributes, sla_refresh
from tickets.services.trail import event_record, ticket_publish
from tickets.services.workflow import ticket_set_status

NOTE_MAX_CHARS = 500
TAG_MAX_CHARS = 30
TAGS_MAX = 20
SPAM_TAG = "spam"


class ActionRefused(ValidationError):
    """An action the ticket's state or the caller's role does not allow; the message says
    why, for the agent."""


def _left_groups(ticket: Ticket) -> list[str]:
    """The queues a ticket is in now, to tell them when it leaves."""
    groups = []
    if ticket.team_id:
        groups.append(realtime.team_group(ticket.team_id))
    if ticket.assignee_id:
        groups.append(realtime.agent_group(ticket.assignee_id))
    return groups


def _sla_follow(ticket: Ticket) -> list[str]:
    """Re-target the running clocks under the policy the ticket's attributes now select, as a
    tier change does; returns the changed clocks for the trail."""
    changed = sla_services.clocks_reevaluate(
        subject_id=ticket.pk, attributes=sla_attributes(ticket), at=timezone.now()
    )
    return [f"{c.milestone}:{c.due_at.isoformat()}" for c in changed]


def ticket_transfer(
    *, ticket: Ticket, team: Team | None, agent: Agent | None, note: str, actor: User
) -> Ticket:
    """Hand the ticket to `team`, or to `agent` (in `team`, or in one of the agent's teams),
    with a note that says why; the receiving team sees it on the ticket and in its queue.

    Refused without a note, without a team or an agent, to an agent whose account is
    inactive or who belongs to no team (or not to `team`), and when nothing would change.
    A transfer to a team without an agent leaves the ticket unassigned for that team to take.
    The SLA clocks are re-targeted as for a tier change (the team is a policy condition)."""
    note = note.strip()
    if not note:
        raise ActionRefused(_("Say why you transfer the ticket."))
    if team is None and agent is None:
        raise ActionRefused(_("Choose a team or an agent."))
    if agent is not None:
        if not agent.user.is_active:
            raise ActionRefused(
                _("%(agent)s's account is inactive: choose someone else.") % {"agent": agent}
            )
        agent_teams = list(agent.teams.all())
        if not agent_teams:
            raise ActionRefused(_("%(agent)s belongs to no team.") % {"agent": agent})
        if team is not None and team not in agent_teams:
            raise ActionRefused(
                _("%(agent)s is not in the team %(team)s.") % {"agent": agent, "team": team}
            )
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
        if agent is not None and team is None:
            ids = {t.pk for t in agent.teams.all()}
            team = ticket.team if ticket.team_id in ids else agent.teams.order_by("pk").first()
        assert team is not None
        new_assignee = agent.pk if agent is not None else None
        if team.pk == ticket.team_id and new_assignee in (None, ticket.assignee_id):
            raise ActionRefused(_("The ticket is already there."))
        left = _left_groups(ticket)
        from_team = ticket.team
        now = timezone.now()
        transfer = TicketTransfer.objects.create(
            ticket=ticket,
            from_team=from_team,
            to_team=team,
            to_agent=agent,
            note=note[:NOTE_MAX_CHARS],
            actor=actor,
            created_at=now,
        )
        ticket.team = team
        ticket.assignee = agent
        ticket.last_transfer = transfer
        clocks = _sla_follow(ticket)
        ticket.save(
            update_fields=["team", "assignee", "last_transfer", "updated_at", *sla_refresh(ticket)]
        )
        event_record(
            ticket=ticket,
            kind=EventKind.TRANSFERRED,
            actor=actor,
            data={
                "from_team": from_team.pk if from_team else None,
                "to_team": team.pk,
                "to_agent": agent.pk if agent else None,
                "to": str(agent or team),
                "note": transfer.note,
                "clocks": clocks,
            },
            at=now,
        )
        audit_record(
            actor=actor,
            action="ticket_transferred",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={
                "transfer": transfer.pk,
                "from_team": from_team.pk if from_team else None,
                "to_team": team.pk,
                "to_agent": agent.pk if agent else None,
            },
        )
        ticket_publish(ticket, events.ticket_updated(ticket), also=left)
    return ticket


def ticket_set_category(*, ticket: Ticket, category: str, actor: User, reason: str) -> Ticket:
    """Change the ticket's category (what triage said it is about), with a reason; the SLA
    clocks follow the policy that now applies, as for a tier change. The team stays: moving
    it is a transfer."""
    category = category.strip()[:50]
    reason = reason.strip()
    if not reason:
        raise ActionRefused(_("Give a reason."))
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
        if ticket.category == category:
            raise ActionRefused(_("The ticket already has that category."))
        previous = ticket.category
        ticket.category = category
        clocks = _sla_follow(ticket)
        ticket.save(update_fields=["category", "updated_at", *sla_refresh(ticket)])
        event_record(
            ticket=ticket,
            kind=EventKind.CATEGORY,
            actor=actor,
            data={"from": previous, "to": category, "reason": reason[:200], "clocks": clocks},
        )
        audit_record(
            actor=actor,
            action="ticket_category_changed",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"from": previous, "to": category},
        )
        ticket_publish(ticket, events.ticket_updated(ticket))
    return ticket


_TAG_SPACE = re.compile(r"\s+")


def tags_normalised(tags: list[str]) -> list[str]:
    """Tags as stored: trimmed, inner spaces as one, lower case for Latin letters, no
    duplicates, in the order given."""
    found: list[str] = []
    for tag in tags:
        tag = _TAG_SPACE.sub(" ", tag.strip()).lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX_CHARS:
            raise ActionRefused(
                _("A tag has at most %(count)d characters.") % {"count": TAG_MAX_CHARS}
            )
        if tag not in found:
            found.append(tag)
    if len(found) > TAGS_MAX:
        raise ActionRefused(_("A ticket has at most %(count)d tags.") % {"count": TAGS_MAX})
    return found


def ticket_set_tags(*, ticket: Ticket, tags: list[str], actor: User) -> Ticket:
    """Replace the ticket's tags. Tags are an SLA policy condition: the clocks follow."""
    wanted = tags_normalised(tags)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
        before = list(ticket.tags or [])
        if before == wanted:
            return ticket
        ticket.tags = wanted
        clocks = _sla_follow(ticket)
        ticket.save(update_fields=["tags", "updated_at", *sla_refresh(ticket)])
        added = [t for t in wanted if t not in before]
        removed = [t for t in before if t not in wanted]
        event_record(
            ticket=ticket,
            kind=EventKind.TAGS,
            actor=actor,
            data={"added": added, "removed": removed, "clocks": clocks},
        )
        audit_record(
            actor=actor,
            action="ticket_tags_changed",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"added": added, "removed": removed},
        )
        ticket_publish(ticket, events.ticket_updated(ticket), board=False)
    return ticket


def ticket_tags_add(*, ticket: Ticket, tags: list[str], actor: User) -> Ticket:
    """Add tags to the ticket's own (a bulk action on the queue)."""
    return ticket_set_tags(ticket=ticket, tags=[*(ticket.tags or []), *tags], actor=actor)


def custom_fields_for(ticket: Ticket) -> list[CustomField]:
    """The active custom fields that apply to the ticket's category, in order."""
    return [f for f in CustomField.objects.filter(is_active=True) if f.applies_to(ticket.category)]


def _field_value(field: CustomField, raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    if field.type == CustomFieldType.NUMBER:
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ActionRefused(_("%(field)s must be a number.") % {"field": field.label})
        return raw
    if field.type == CustomFieldType.CHOICE and raw not in [str(c) for c in field.choices]:
        raise ActionRefused(
            _("%(field)s must be one of: %(choices)s")
            % {"field": field.label, "choices": ", ".join(str(c) for c in field.choices)}
        )
    return raw[:200]


def ticket_set_fields(*, ticket: Ticket, values: Mapping[str, str], actor: User) -> Ticket:
    """Set the values of the custom fields that apply to the ticket's category (`values` by
    field key; an empty value clears it). Keys of fields that do not apply are refused. The
    trail and the audit log name the fields changed, not their values (an order number is
    the customer's)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        fields = {f.key: f for f in custom_fields_for(ticket)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ActionRefused(
                _("These fields do not apply to this ticket: %(keys)s")
                % {"keys": ", ".join(unknown)}
            )
        stored = dict(ticket.custom_fields or {})
        changed = []
        for key, raw in values.items():
            value = _field_value(fields[key], raw)
            if stored.get(key) == value or (value is None and key not in stored):
                continue
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
            changed.append(key)
        if not changed:
            return ticket
        ticket.custom_fields = stored
        ticket.save(update_fields=["custom_fields", "updated_at"])
        event_record(ticket=ticket, kind=EventKind.FIELDS, actor=actor, data={"fields": changed})
        audit_record(
            actor=actor,
            action="ticket_fields_changed",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"fields": changed},
        )
        ticket_publish(ticket, events.ticket_updated(ticket), queues=False, board=False)
    return ticket


def ticket_link(*, ticket: Ticket, other: Ticket, actor: User) -> TicketLink:
    """Link two related tickets; the link shows on both pages. Refused for a ticket and
    itself, and for two tickets already linked."""
    if ticket.pk == other.pk:
        raise ActionRefused(_("A ticket cannot be linked to itself."))
    first, second = sorted([ticket, other], key=lambda t: t.pk)
    try:
        with transaction.atomic():
            link = TicketLink.objects.create(
                first=first, second=second, actor=actor, created_at=timezone.now()
            )
            for one, two in ((ticket, other), (other, ticket)):
                event_record(
                    ticket=one, kind=EventKind.LINKED, actor=actor, data={"to": two.number}
                )
                ticket_publish(one, events.ticket_updated(one), queues=False, board=False)
            audit_record(
                actor=actor,
                action="tickets_linked",
                object_type="ticket",
                object_id=str(ticket.pk),
                data={"other": other.pk},
            )
    except IntegrityError:
        raise ActionRefused(_("These tickets are already linked.")) from None
    return link


def ticket_unlink(*, ticket: Ticket, other: Ticket, actor: User) -> None:
    first, second = sorted([ticket, other], key=lambda t: t.pk)
    with transaction.atomic():
        deleted, _rows = TicketLink.objects.filter(first=first, second=second).delete()
        if not deleted:
            raise ActionRefused(_("These tickets are not linked."))
        for one, two in ((ticket, other), (other, ticket)):
            event_record(ticket=one, kind=EventKind.UNLINKED, actor=actor, data={"to": two.number})
            ticket_publish(one, events.ticket_updated(one), queues=False, board=False)
        audit_record(
            actor=actor,
            action="tickets_unlinked",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"other": other.pk},
        )


def ticket_links(ticket: Ticket) -> list[Ticket]:
    """The tickets linked to this one, oldest link first."""
    links = (
        TicketLink.objects.filter(Q(first=ticket) | Q(second=ticket))
        .prefetch_related("first__team", "second__team")
        .order_by("created_at", "pk")
    )
    return [link.second if link.first_id == ticket.pk else link.first for link in links]


class AccessWish:
    ACCESS = "access"
    TRANSFER = "transfer"
    ALL = (ACCESS, TRANSFER)


def ticket_access_ask(*, ticket: Ticket, actor: User, wish: str, note: str) -> int:
    """An agent who may not open the ticket asks the team that owns it for access, or to
    have it transferred to them. The team's agents (and, for a ticket of no team, the
    supervisors) are notified; nothing of the conversation is shown to the asker. Returns
    how many were told."""
    if wish not in AccessWish.ALL:
        raise ActionRefused(_("Ask for access or for a transfer."))
    now = timezone.now()
    if ticket.team_id:
        users = [a.user for a in Agent.objects.filter(teams=ticket.team_id, user__is_active=True)]
    else:
        users = []
    if not users:
        users = [u for u in User.objects.filter(is_active=True) if has_role(u, Role.SUPERVISOR)]
    users = [u for u in users if u.pk != actor.pk]
    asker = actor.get_full_name() or actor.get_username()
    text = (
        _("%(agent)s asks for access to ticket %(number)s")
        if wish == AccessWish.ACCESS
        else _("%(agent)s asks for ticket %(number)s to be transferred to them")
    ) % {"agent": asker, "number": ticket.number}
    if note.strip():
        text = f"{text}: {note.strip()[:300]}"
    with transaction.atomic():
        told = notifications_create(
            users=users,
            ticket=ticket,
            kind="access_asked",
            text=text,
            deliver_after=now,
            now=now,
        )
        event_record(
            ticket=ticket,
            kind=EventKind.ACCESS_ASKED,
            actor=actor,
            data={"wish": wish, "note": note.strip()[:300]},
            at=now,
        )
        audit_record(
            actor=actor,
            action="ticket_access_asked",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"wish": wish, "told": told},
        )
    return told


def ticket_close_as_spam(*, ticket: Ticket, actor: User) -> Ticket:
    """Tag the ticket as spam and close it."""
    with transaction.atomic():
        ticket = ticket_tags_add(ticket=ticket, tags=[SPAM_TAG], actor=actor)
        return ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=actor)
