"""Macros: saving and deleting them (with who may), and carrying out their actions on a
ticket when the reply they went into is sent."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu import realtime
from kefu.roles import Role, has_role
from tickets import events
from tickets.compose import macro_may_edit
from tickets.models import Agent, EventKind, Macro, MacroLanguage, Status, Team, Ticket
from tickets.services.trail import event_record, ticket_publish
from tickets.services.workflow import ticket_set_status

MAX_TAG_CHARS = 50


def macro_save(
    *,
    macro: Macro | None,
    user: User,
    agent: Agent | None,
    name: str,
    body: str,
    language: str,
    is_shared: bool,
    team: Team | None,
    set_status: str,
    add_tag: str,
    transfer_to: Team | None,
) -> Macro:
    """Create (`macro` None) or change a macro. A personal macro is its author's; only a
    supervisor shares one (with `team`, or with everyone when `team` is None) or changes a
    shared one. PermissionDenied otherwise."""
    name, body, add_tag = name.strip(), body.strip(), add_tag.strip()
    if not name or not body:
        raise ValidationError(_("A macro needs a name and a text."))
    if language not in MacroLanguage.values:
        raise ValidationError(_("Unknown language: %(language)s") % {"language": language})
    if set_status and set_status not in Status.values:
        raise ValidationError(_("Unknown status: %(status)s") % {"status": set_status})
    if len(add_tag) > MAX_TAG_CHARS:
        raise ValidationError(
            _("A tag is at most %(count)d characters.") % {"count": MAX_TAG_CHARS}
        )
    if macro is not None and not macro_may_edit(user=user, agent=agent, macro=macro):
        raise PermissionDenied(_("You may not change this macro."))
    if is_shared and not has_role(user, Role.SUPERVISOR):
        raise PermissionDenied(_("Only supervisors share macros."))
    if not is_shared and agent is None:
        raise PermissionDenied(_("Only agents keep personal macros."))
    if macro is None:
        macro = Macro()
    if is_shared:
        macro.owner, macro.team = None, team
    elif macro.owner_id is None:
        macro.owner, macro.team = agent, None
    macro.name, macro.body, macro.language = name, body, language
    macro.set_status, macro.add_tag, macro.transfer_to = set_status, add_tag, transfer_to
    macro.full_clean(exclude=["owner", "team", "transfer_to"])
    macro.save()
    return macro


def macro_delete(*, macro: Macro, user: User, agent: Agent | None) -> None:
    if not macro_may_edit(user=user, agent=agent, macro=macro):
        raise PermissionDenied(_("You may not change this macro."))
    macro.delete()


def macro_actions_apply(*, ticket: Ticket, macros: list[Macro], actor: User) -> Ticket:
    """Carry out the macros' actions on the ticket, in order: add a tag, move it to a team
    (the team only: who works it is the new team's business), set a status. Each is a
    no-op when the ticket is already so."""
    for macro in macros:
        if macro.add_tag:
            ticket = _ticket_tag(ticket=ticket, tag=macro.add_tag)
        if macro.transfer_to_id is not None and macro.transfer_to is not None:
            ticket = _ticket_team(ticket=ticket, team=macro.transfer_to, actor=actor, macro=macro)
        if macro.set_status:
            ticket = ticket_set_status(ticket=ticket, status=macro.set_status, actor=actor)
    return ticket


def _ticket_tag(*, ticket: Ticket, tag: str) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        tags = list(ticket.tags or [])
        if tag in tags:
            return ticket
        ticket.tags = [*tags, tag]
        ticket.save(update_fields=["tags", "updated_at"])
        ticket_publish(ticket, events.ticket_updated(ticket), board=False)
    return ticket


def _ticket_team(*, ticket: Ticket, team: Team, actor: User, macro: Macro) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.team_id == team.pk:
            return ticket
        previous = ticket.team_id
        ticket.team = team
        ticket.save(update_fields=["team", "updated_at"])
        data: dict[str, Any] = {
            "team_from": previous,
            "team_to": team.pk,
            "to": team.name,
            "macro": macro.pk,
        }
        event_record(ticket=ticket, kind=EventKind.ASSIGNED, actor=actor, data=data)
        left = [realtime.team_group(previous)] if previous else []
        ticket_publish(ticket, events.ticket_updated(ticket), also=left)
    return ticket
