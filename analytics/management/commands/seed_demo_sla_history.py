"""SLA clocks for the embedded demo's ticket history (tickets `seed_demo_history` wrote
straight into the tables, with no clocks), so the SLA report has a history to show.

Each history ticket gets the clocks the policy engine starts for it at its creation, each
satisfied at the ticket's own moment (the first answer for the first response and the plan,
the resolution for the resolution); a moment after the due time is recorded as a breach at the
due time, as the ticker would have recorded it. Every clock ends satisfied (a milestone never
reached, at the ticket's last change), so the ticker finds nothing of the history to fire.
Running it again changes nothing (a ticket with clocks is skipped). Reports read them
once the facts are rebuilt (`facts_rebuild`).
"""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from sla.models import Milestone, SlaClock
from sla.services import clock_satisfy, clocks_start
from tickets.models import Message, Ticket
from tickets.services.sla_clocks import sla_attributes

TAG = "demo-history"


class Command(BaseCommand):
    help = "Give the demo's ticket history the SLA clocks it would have had."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = Message.objects.filter(provider_id__startswith=f"{TAG}:").values_list(
            "ticket_id", flat=True
        )
        tickets = Ticket.objects.filter(pk__in=ids).select_related("team").order_by("pk")
        timed = set(
            SlaClock.objects.filter(subject_id__in=ids).values_list("subject_id", flat=True)
        )
        now = timezone.now()
        done = 0
        for ticket in tickets.iterator(chunk_size=500):
            if ticket.pk in timed:
                continue
            with transaction.atomic():
                clocks = clocks_start(
                    subject_id=ticket.pk,
                    attributes=sla_attributes(ticket),
                    started_at=ticket.created_at,
                    calendar_id=ticket.team.calendar_id if ticket.team else None,
                )
                last = ticket.resolved_at or ticket.updated_at
                reached: dict[str, datetime | None] = {
                    Milestone.FIRST_RESPONSE: ticket.first_response_at,
                    Milestone.PLAN: ticket.first_response_at,
                    Milestone.RESOLUTION: ticket.resolved_at,
                }
                for clock in clocks:
                    at = min(reached.get(clock.milestone) or last, now)
                    if at > clock.due_at:
                        # By its key: clocks_start's bulk insert leaves the rows without ids.
                        SlaClock.objects.filter(
                            subject_id=ticket.pk, milestone=clock.milestone, sequence=0
                        ).update(breached_at=clock.due_at)
                    clock_satisfy(subject_id=ticket.pk, milestone=clock.milestone, at=at)
            done += 1
        if options["verbosity"]:
            self.stdout.write(f"SLA clocks for {done} history tickets")
