"""Staying aware: a staff user's alert settings, and the notice an agent gets when someone
else gives them a ticket.

The header's bell lists the user's notifications (`tickets.services.notifications`); the
browser adds a desktop notification and, when the user turned it on, a sound for new urgent
tickets and tickets assigned to them (docs/workspace.md, "Staying aware").
"""

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Agent, AlertSettings, Ticket
from tickets.services.notifications import notifications_create

KIND_ASSIGNED = "assigned"


def alert_settings_set(*, user: User, play_sound: bool) -> AlertSettings:
    """Store the user's choice (one row per user: the unique key settles two tabs at once)."""
    settings, _created = AlertSettings.objects.update_or_create(
        user=user, defaults={"play_sound": play_sound}
    )
    return settings


def assignment_notify(*, ticket: Ticket, agent: Agent | None, actor: User | None) -> None:
    """Tell an agent a ticket was given to them by someone else (a supervisor, a transfer,
    Kefu's routing): delivered after the assignment commits. Taking a ticket oneself tells
    nobody. Call inside the assignment's transaction."""
    if agent is None or (actor is not None and actor.pk == agent.user_id):
        return
    now = timezone.now()
    notifications_create(
        users=[agent.user],
        ticket=ticket,
        kind=KIND_ASSIGNED,
        text=_("%(number)s was assigned to you") % {"number": ticket.number},
        deliver_after=now,
        now=now,
    )
