"""Demo complaints for the demo of `seed_demo`: three complaints taken in through intake
(Chinese and English; one flagged by the demo agent), two of them reviewed by the demo
supervisor (one with its corrective action overdue, so the board lists it; one closed), three
earlier delivery complaints reviewed and closed (the same root cause over three months), and
customer suggestions in each status. Runs after `seed_demo`; running it again changes nothing."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from feedback.models import Complaint, RootCause, Suggestion, SuggestionStatus
from feedback.services.complaints import (
    ReviewInput,
    complaint_flag,
    complaint_review_save,
    suggestion_from_ticket,
    suggestion_set_status,
)
from tickets.inbound import Identity, InboundMessage
from tickets.models import Channel, Status, Ticket
from tickets.services.intake import intake_message
from tickets.services.workflow import ticket_set_status

# (message id, channel, app user, name, text, days ago)
COMPLAINTS = [
    (
        "demo-c1",
        Channel.APP,
        "u2001",
        "周敏",
        "我要投诉你们的客服，态度太差了，问了三遍都不理人",
        40,
    ),
    (
        "demo-c2",
        Channel.CHAT,
        "u2002",
        "Daniel Wu",
        "This is unacceptable: the fridge broke "
        "again, third time this month. I will complain to the consumer association.",
        12,
    ),
    ("demo-c3", Channel.APP, "u2003", "孙强", "牛奶又送晚了两个小时，已经不是第一次", 2),
]
# Earlier complaints about deliveries, reviewed and closed: the same cause month after month,
# as the reviews page should show it. (message id, app user, name, text, days ago, action)
HISTORY = [
    (
        "demo-c4",
        "u2004",
        "吴凡",
        "快递员把生鲜放在门口一下午没通知我，我要投诉",
        75,
        "配送员上岗培训：生鲜必须当面交付或电话确认。",
    ),
    (
        "demo-c5",
        "u2005",
        "郑丽",
        "第三次了，冷链配送迟到三个小时，冰淇淋全化了",
        45,
        "高峰时段增加冷链配送车两辆。",
    ),
    (
        "demo-c6",
        "u2006",
        "Mark Lee",
        "Unacceptable: the courier left my groceries in the rain again.",
        18,
        "Courier contract: a photo at the door is required on delivery.",
    ),
]
# (message id, app user, name, text, title, statuses to move through)
SUGGESTIONS = [
    (
        "demo-s1",
        "u2101",
        "陈静",
        "建议App里可以按配送时间段筛选商品",
        "按配送时间段筛选商品",
        ["accepted", "done"],
    ),
    (
        "demo-s2",
        "u2102",
        "Lily Ma",
        "Suggestion: let me pick paper bags instead of plastic",
        "Paper bags instead of plastic",
        ["accepted"],
    ),
    ("demo-s3", "u2103", "赵磊", "建议会员积分可以抵扣运费", "积分抵扣运费", []),
    ("demo-s4", "u2104", "钱芳", "建议取消最低起送金额", "取消最低起送金额", ["declined"]),
]


class Command(BaseCommand):
    help = "Load demo complaints, reviews and suggestions. Idempotent."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        User = get_user_model()
        supervisor = User.objects.filter(username="supervisor").first()
        agent = User.objects.filter(username="agent").first()
        if supervisor is None or agent is None:
            self.stdout.write("complaints demo: run seed_demo first")
            return
        if Ticket.objects.filter(messages__provider_id="demo-c1").exists():
            self.stdout.write("complaints demo already present")
            return
        now = timezone.now()
        today = timezone.localdate()
        with transaction.atomic():
            tickets = {}
            for message_id, channel, user_id, name, text, days in COMPLAINTS:
                result = intake_message(
                    inbound=self._inbound(message_id, channel, user_id, name, text)
                )
                # The demo's history: the complaint came in `days` ago.
                Ticket.objects.filter(pk=result.ticket.pk).update(
                    created_at=now - timedelta(days=days)
                )
                tickets[message_id] = Ticket.objects.get(pk=result.ticket.pk)
            late = tickets["demo-c3"]
            if late.category != "complaint":
                complaint_flag(ticket=late, actor=agent, reason="客户多次反映配送延迟")
            causes = {cause.code: cause for cause in RootCause.objects.all()}
            first = Complaint.objects.get(ticket=tickets["demo-c1"])
            complaint_review_save(
                complaint=first,
                actor=supervisor,
                review=ReviewInput(
                    root_cause=causes["agent_attitude"],
                    department="客服部 Customer service",
                    summary="高峰时段客服同时接待过多会话，回复生硬且遗漏了客户的问题。",
                    action="高峰时段每人同时会话上限降为 4；全组服务礼仪培训。",
                    action_owner=supervisor,
                    action_due=today - timedelta(days=5),
                    action_status="in_progress",
                ),
            )
            second = Complaint.objects.get(ticket=tickets["demo-c2"])
            complaint_review_save(
                complaint=second,
                actor=supervisor,
                review=ReviewInput(
                    root_cause=causes["product_quality"],
                    department="采购部 Purchasing",
                    summary="The same fridge model failed three times; the supplier's batch "
                    "had a faulty compressor.",
                    action="Batch withdrawn; supplier quality audit.",
                    action_owner=supervisor,
                    action_due=today + timedelta(days=14),
                    action_status="done",
                ),
            )
            ticket_set_status(ticket=tickets["demo-c2"], status=Status.CLOSED, actor=supervisor)
            for message_id, user_id, name, text, days, action in HISTORY:
                result = intake_message(
                    inbound=self._inbound(message_id, Channel.APP, user_id, name, text)
                )
                Ticket.objects.filter(pk=result.ticket.pk).update(
                    created_at=now - timedelta(days=days)
                )
                ticket = Ticket.objects.get(pk=result.ticket.pk)
                complaint_review_save(
                    complaint=Complaint.objects.get(ticket=ticket),
                    actor=supervisor,
                    review=ReviewInput(
                        root_cause=causes["logistics"],
                        department="物流部 Logistics",
                        summary="",
                        action=action,
                        action_owner=supervisor,
                        action_due=timezone.localdate(ticket.created_at) + timedelta(days=10),
                        action_status="done",
                    ),
                )
                ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=supervisor)
            for message_id, user_id, name, text, title, moves in SUGGESTIONS:
                result = intake_message(
                    inbound=self._inbound(message_id, Channel.APP, user_id, name, text)
                )
                suggestion = suggestion_from_ticket(
                    ticket=result.ticket, actor=agent, title=title, body=text
                )
                for status in moves:
                    suggestion = suggestion_set_status(
                        suggestion=suggestion, actor=supervisor, status=status, note=""
                    )
        done = Suggestion.objects.filter(status=SuggestionStatus.DONE).count()
        self.stdout.write(
            f"complaints demo: {len(COMPLAINTS) + len(HISTORY)} complaints, "
            f"{2 + len(HISTORY)} reviews, "
            f"{len(SUGGESTIONS)} suggestions ({done} done)"
        )

    @staticmethod
    def _inbound(
        message_id: str, channel: str, user_id: str, name: str, text: str
    ) -> InboundMessage:
        return InboundMessage(
            channel=channel,
            provider_id=message_id,
            identities=[Identity(kind="app_user", value=user_id)],
            text=text,
            name=name,
        )
