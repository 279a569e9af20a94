"""Demo surveys and call-backs for the demo of `seed_demo`: a dozen customers whose tickets
the demo agent answered and resolved, invited on their own channel and rating the service
(one by an SMS digit reply when it is daytime: at night SMS invitations wait for the
morning), a quarterly NPS sample answered, and the call-backs the low ratings and
detractors make, one a complaint resolved after its review makes for its supervisor, plus one
added by hand. Runs after `seed_demo`; running it again changes nothing."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from feedback.models import (
    CallbackReason,
    Complaint,
    RootCause,
    Survey,
    SurveyKind,
    SurveyTrigger,
)
from feedback.services.callbacks import callback_create
from feedback.services.complaints import ReviewInput, complaint_review_save
from feedback.services.surveys import (
    Answer,
    quarter_of,
    survey_answer,
    survey_invite,
    survey_schedule,
    survey_settings,
    survey_settings_update,
)
from tickets.inbound import Identity, InboundMessage
from tickets.models import Agent, Channel, Message, Status, Ticket
from tickets.services.intake import intake_message
from tickets.services.workflow import ticket_reply, ticket_set_status

# (channel, identity kind, identity, what they wrote, their rating, their comment)
CSAT = [
    (
        Channel.EMAIL,
        "email",
        "li.na@example.com",
        "发票抬头开错了，能重开吗？",
        5,
        "处理很快，谢谢",
    ),
    (Channel.APP, "app_user", "demo-app-201", "优惠券没有自动抵扣", 4, ""),
    (Channel.CHAT, "app_user", "demo-chat-202", "会员积分什么时候到账？", 5, ""),
    (Channel.EMAIL, "email", "wang.lei@example.com", "Where is my parcel?", 4, "Quick answer"),
    (Channel.APP, "app_user", "demo-app-203", "退款还没到账", 3, "等了三天"),
    (Channel.EMAIL, "email", "zhao.min@example.com", "收到的苹果有坏的", 2, "只退了一半的钱"),
    (Channel.CHAT, "app_user", "demo-chat-204", "配送时间能改吗？", 5, ""),
    (Channel.APP, "app_user", "demo-app-205", "送来的鸡蛋碎了好几个", 1, "太差劲了，非常生气"),
    (Channel.SMS, "phone", "+8613700000206", "快递三天没动了", 2, ""),
]
# Scores of the quarter's NPS sample.
NPS = [10, 9, 9, 10, 8, 7, 6, 3]


class Command(BaseCommand):
    help = "Load demo survey answers, an NPS sample and call-backs. Idempotent."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if Message.objects.filter(provider_id="demo-feedback-1").exists():
            return  # loaded already
        agent = Agent.objects.filter(user__username="agent").select_related("user").first()
        supervisor = get_user_model().objects.filter(username="supervisor").first()
        if agent is None:
            return
        config = survey_settings()
        delay = config.delay_minutes
        # Invited at once for the demo; the usual delay is put back afterwards.
        survey_settings_update(actor=supervisor, values={"delay_minutes": 0})
        try:
            self._csat(agent)
            self._nps()
        finally:
            survey_settings_update(actor=supervisor, values={"delay_minutes": delay})
        if supervisor is not None:
            self._complaint(supervisor)
        first = Ticket.objects.filter(surveys__score=4).first()
        if first is not None:
            callback_create(
                ticket=first,
                reason=CallbackReason.MANUAL,
                note="客户希望下周回电确认发票已收到",
                actor=agent.user,
                owner=agent,
            )

    def _complaint(self, supervisor) -> None:  # type: ignore[no-untyped-def]
        """A complaint reviewed and resolved by the supervisor: its call-back is theirs."""
        ticket = self._ticket(
            Channel.APP, "app_user", "demo-app-207", "我要投诉，送来的牛奶已经过期了", 20
        )
        complaint = Complaint.objects.filter(ticket=ticket).first()
        cause = RootCause.objects.filter(code="product_quality").first()
        if complaint is None or cause is None:
            return  # triage did not read it as a complaint: no demo of this
        complaint_review_save(
            complaint=complaint,
            actor=supervisor,
            review=ReviewInput(
                root_cause=cause,
                department="仓储部 Warehouse",
                summary="临期商品未按规定下架。",
                action="每日开仓前检查临期乳制品；为客户补发并回访确认。",
                action_owner=supervisor,
                action_due=timezone.localdate() + timedelta(days=3),
                action_status="in_progress",
            ),
        )
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor)

    def _ticket(self, channel: str, kind: str, value: str, text: str, number: int) -> Ticket:
        return intake_message(
            inbound=InboundMessage(
                channel=channel,
                provider_id=f"demo-feedback-{number}",
                identities=[Identity(kind=kind, value=value)],
                text=text,
                name=f"演示客户{number}",
            )
        ).ticket

    def _csat(self, agent: Agent) -> None:
        for number, (channel, kind, value, text, score, comment) in enumerate(CSAT, start=1):
            ticket = self._ticket(channel, kind, value, text, number)
            ticket_reply(ticket=ticket, author=agent, body="您好，已经为您处理好了，请查收。")
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
            survey = Survey.objects.filter(ticket=ticket).first()
            if survey is None:
                continue
            # Invited here, or already by the task the resolution queued (eager Celery).
            survey_invite(survey_id=survey.pk)
            survey.refresh_from_db()
            if survey.invited_at is None:
                continue  # an SMS at night waits for the morning
            if channel == Channel.SMS:
                # The customer answers the SMS with a digit: taken in by the core's intake.
                intake_message(
                    inbound=InboundMessage(
                        channel=channel,
                        provider_id=f"demo-feedback-reply-{number}",
                        identities=[Identity(kind=kind, value=value)],
                        text=str(score),
                    )
                )
                continue
            survey_answer(
                survey=survey,
                answer=Answer(score=score, comment=comment),
                via="chat" if channel == Channel.CHAT else "web",
            )

    def _nps(self) -> None:
        now = timezone.now()
        for index, score in enumerate(NPS, start=1):
            value = f"nps.demo{index}@example.com"
            ticket = self._ticket(Channel.EMAIL, "email", value, "想问一下会员权益", 100 + index)
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)
            survey = survey_schedule(
                ticket=ticket,
                kind=SurveyKind.NPS,
                trigger=SurveyTrigger.SAMPLE,
                key=f"nps:{quarter_of(now)}:{ticket.customer_id}",
                now=now - timedelta(minutes=index),
                due_at=now - timedelta(minutes=index),
            )
            if survey is None:
                continue
            survey_invite(survey_id=survey.pk)
            survey.refresh_from_db()
            if survey.invited_at is None:
                continue
            survey_answer(survey=survey, answer=Answer(score=score), via="web")
