"""Survey answers for the embedded demo's ticket history (tickets `seed_demo_history` wrote
straight into the tables), so the satisfaction report, the scorecards and the monthly
ranking have CSAT and NPS to show after `make run`.

Like the history itself, the surveys are written as if imported: no invitation message, no
call-back. Most tickets an agent resolved were invited to rate on their own channel half an
hour after the resolution (a call by SMS, a self-service ticket by email); about one in ten
was asked the NPS question instead (an order ticket's sample); some of each answered, within
the days an invitation may be answered. The scores lean on the ticket: a reopened one or a
slow one rates lower, and each agent has a manner of their own. Running it again changes
nothing (the history is rated once, and a survey's key is unique); reports read them once
the facts are rebuilt (`facts_rebuild`).
"""

import random
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from feedback.models import Survey, SurveyKind, SurveyTrigger
from tickets.models import Channel, EventKind, Message, Ticket, TicketEvent

TAG = "demo-history"
# The channel an invitation about a ticket of each channel goes out on (docs/feedback.md).
INVITED_ON: dict[str, str] = {
    Channel.CHAT: Channel.CHAT,
    Channel.SMS: Channel.SMS,
    Channel.EMAIL: Channel.EMAIL,
    Channel.APP: Channel.APP,
    Channel.PHONE: Channel.SMS,
    Channel.WEB: Channel.EMAIL,
}
INVITED = 0.85  # share of the agents' resolved tickets invited (the rest: fatigue)
NPS_SHARE = 0.1  # of the invited, asked NPS instead of CSAT
ANSWERED = {SurveyKind.CSAT: 0.42, SurveyKind.NPS: 0.3}
CSAT_WEIGHTS = [3, 3, 8, 30, 56]  # scores 1–5 for a smooth ticket
NPS_WEIGHTS = [2, 1, 1, 2, 2, 4, 6, 12, 16, 24, 30]  # scores 0–10


class Command(BaseCommand):
    help = "Give the demo's ticket history the survey answers it would have had."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo_survey_history writes demo data; embedded mode only.")
        ids = Message.objects.filter(provider_id__startswith=f"{TAG}:").values_list(
            "ticket_id", flat=True
        )
        tickets = list(
            Ticket.objects.filter(pk__in=ids, assignee__isnull=False, resolved_at__isnull=False)
            .order_by("pk")
            .values(
                "pk",
                "customer_id",
                "channel",
                "team_id",
                "category",
                "assignee_id",
                "created_at",
                "resolved_at",
            )
        )
        if not tickets:
            return
        if Survey.objects.filter(ticket_id__in=[t["pk"] for t in tickets]).exists():
            return  # rated already: the tickets left out then stay out
        reopened = set(
            TicketEvent.objects.filter(
                ticket_id__in=[t["pk"] for t in tickets], kind=EventKind.REOPENED
            ).values_list("ticket_id", flat=True)
        )
        rng = random.Random(20261204)  # the same answers on every machine
        # Each agent's manner: a shift of their CSAT scores, from −0.45 to +0.35 of a point.
        manner = {
            pk: rng.uniform(-0.45, 0.35) for pk in sorted({t["assignee_id"] for t in tickets})
        }
        surveys: list[Survey] = []
        agents: list[tuple[str, int]] = []
        for t in tickets:
            if rng.random() > INVITED:
                continue
            resolved_at = t["resolved_at"]
            assert resolved_at is not None  # filtered on
            kind = SurveyKind.NPS if rng.random() < NPS_SHARE else SurveyKind.CSAT
            invited_at = resolved_at + timedelta(minutes=30)
            survey = Survey(
                kind=kind,
                trigger=SurveyTrigger.ORDER if kind == SurveyKind.NPS else SurveyTrigger.RESOLVED,
                key=f"{kind}:ticket:{t['pk']}",
                ticket_id=t["pk"],
                customer_id=t["customer_id"],
                channel=INVITED_ON.get(t["channel"], Channel.EMAIL),
                team_id=t["team_id"],
                category=t["category"],
                created_at=resolved_at,
                invited_at=invited_at,
                expires_at=invited_at + timedelta(days=7),
                nonce=secrets.token_hex(8),
            )
            if rng.random() < ANSWERED[kind]:
                slow = resolved_at - t["created_at"] > timedelta(hours=8)
                penalty = (1.5 if t["pk"] in reopened else 0.0) + (0.7 if slow else 0.0)
                if kind == SurveyKind.CSAT:
                    drawn = rng.choices(range(1, 6), CSAT_WEIGHTS)[0]
                    shift = manner[t["assignee_id"]] - penalty
                    score = min(5, max(1, round(drawn + shift)))
                else:
                    drawn = rng.choices(range(11), NPS_WEIGHTS)[0]
                    score = min(10, max(0, round(drawn - 2 * penalty)))
                survey.score = score
                survey.answered_at = invited_at + timedelta(
                    minutes=min(60 * 24 * 6, max(1.0, rng.lognormvariate(3.5, 1.6)))
                )
                survey.answered_via = "chat" if survey.channel == Channel.CHAT else "web"
                if survey.channel == Channel.SMS:
                    survey.answered_via = "sms"
            surveys.append(survey)
            agents.append((survey.key, t["assignee_id"]))
        with transaction.atomic():
            Survey.objects.bulk_create(surveys, ignore_conflicts=True, batch_size=500)
            made = dict(
                Survey.objects.filter(key__in=[key for key, _agent in agents]).values_list(
                    "key", "pk"
                )
            )
            Survey.agents.through.objects.bulk_create(
                [
                    Survey.agents.through(survey_id=made[key], agent_id=agent)
                    for key, agent in agents
                    if key in made
                ],
                ignore_conflicts=True,
                batch_size=500,
            )
        if options["verbosity"]:
            answered = sum(1 for s in surveys if s.answered_at is not None)
            self.stdout.write(f"surveys for {len(surveys)} history tickets, {answered} answered")
