"""Demo quality inspection for the demo of `seed_demo`: the stock scorecard, a sampling
rule for every team, the demo supervisor's review of one of the agent's tickets, and the
sample of this week drawn so reviewers find work. Runs after `seed_demo`; running it again
changes nothing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from feedback.models import Rating, Review, SamplingRule
from feedback.services.reviews import ItemRating, review_submit
from feedback.services.sampling import sample_draw, week_of
from feedback.services.scorecards import scorecard_current, scorecard_default
from tickets.models import Agent, Message, Team


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
                        "random_percent": 20,
                        "keywords": ["投诉", "差评", "complaint"],
                    },
                )
        week = week_of(timezone.localdate())
        samples = sample_draw(week=week)
        supervisor = User.objects.filter(username="supervisor").first()
        agent = Agent.objects.filter(user__username="agent").first()
        if supervisor is None or agent is None or Review.objects.exists():
            self.stdout.write(f"quality demo: {len(samples)} samples added")
            return
        # The agent's reply on the demo's refunded milk ticket, reviewed by the supervisor.
        reply = (
            Message.objects.filter(author=agent, is_bot=False, is_automatic=False)
            .select_related("ticket")
            .order_by("created_at")
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
