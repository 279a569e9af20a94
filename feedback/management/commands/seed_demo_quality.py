"""Demo quality inspection for the demo of `seed_demo`: the stock scorecard, a sampling
rule for every team, two more replies by the demo agent (one curt, one polite) so the week has
work to review, this week's sample with its pre-checks, and the demo supervisor's review of
the agent's refund reply. Runs after `seed_demo`; running it again changes nothing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from feedback.models import Rating, Review, SamplingRule
from feedback.services.reviews import ItemRating, review_submit
from feedback.services.sampling import sample_draw, week_of
from feedback.services.scorecards import scorecard_current, scorecard_default
from tickets.models import Agent, Direction, Message, Team, Ticket
from tickets.services.workflow import ticket_reply

# (the demo message that opened the ticket, the demo agent's reply on it)
REPLIES = [
    ("demo-2", "不知道，你自己看APP里的积分规则。"),
    (
        "demo-4",
        "Hello Emma, sorry about the noise. I have opened a return for the blender; "
        "the courier will collect it tomorrow.",
    ),
]


class Command(BaseCommand):
    help = "Load the demo scorecard, sampling rules and a review. Idempotent."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        User = get_user_model()
        with transaction.atomic():
            scorecard = scorecard_default()
            for team in Team.objects.all():
                SamplingRule.objects.get_or_create(
                    team=team,
                    defaults={
                        "scorecard": scorecard,
                        # The demo's handful of tickets are all drawn.
                        "random_percent": 100,
                        "keywords": ["投诉", "差评", "complaint"],
                    },
                )
        agent = Agent.objects.filter(user__username="agent").first()
        if agent is not None:
            for provider_id, body in REPLIES:
                ticket = Ticket.objects.filter(messages__provider_id=provider_id).first()
                if (
                    ticket is not None
                    and not ticket.messages.filter(
                        direction=Direction.OUT, author__isnull=False
                    ).exists()
                ):
                    ticket_reply(ticket=ticket, author=agent, body=body)
        week = week_of(timezone.localdate())
        samples = sample_draw(week=week)
        supervisor = User.objects.filter(username="supervisor").first()
        if supervisor is None or agent is None or Review.objects.exists():
            self.stdout.write(f"quality demo: {len(samples)} samples added")
            return
        # The agent's reply on the demo's refunded milk ticket, reviewed by the supervisor.
        reply = (
            Message.objects.filter(
                author=agent, ticket__messages__provider_id="demo-6", is_bot=False
            )
            .select_related("ticket")
            .first()
        )
        if reply is not None:
            version = scorecard_current(scorecard)
            ratings = {}
            for item in version.items.all():
                rating = Rating.MET
                if item.name_en == "Proper greeting":
                    rating = Rating.MISSED
                elif item.name_en == "Polite closing":
                    rating = Rating.PARTLY
                ratings[item.pk] = ItemRating(rating=rating)
            sample = reply.ticket.quality_samples.first()
            review_submit(
                ticket=reply.ticket,
                agent=agent,
                reviewer=supervisor,
                version=version,
                ratings=ratings,
                comment="退款处理及时。首次回复缺少问候语。",
                sample=sample,
            )
        self.stdout.write(self.style.SUCCESS("quality demo loaded"))
