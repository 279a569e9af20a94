"""Customer notices: every step of a case and the ticket changes a customer should know of
are announced on the channel they prefer, in their language, through the outbox."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone, translation

from aftersales.models import Case, Notice
from aftersales.services import (
    ItemClaim,
    case_apply_event,
    case_complete,
    case_goods_received,
    case_open,
    case_receive,
    case_refund,
    case_return_tracking,
    case_review,
)
from aftersales.services.notices import held_until, notice_send
from channels_ingest.models import OutboxEntry, SmsOptOut
from tests.aftersales.factories import NOW, make_order, open_case, reason
from tests.factories import intake
from tickets.delivery import DeliveryResult, Outbound, TransientDeliveryError, backend_for
from tickets.models import (
    Channel,
    DeliveryStatus,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.services import outbox
from tickets.services.workflow import ticket_reply, ticket_set_status
from tickets.tiers import Tier

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "+8613900001234"


@pytest.fixture(autouse=True)
def outbox_backends(settings):  # type: ignore[no-untyped-def]
    """Every channel delivers into the outbox (SMS honouring opt-outs), as embedded."""
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "app": "channels_ingest.outbox.OutboxBackend",
        "email": "channels_ingest.outbox.OutboxBackend",
        "sms": "channels_ingest.outbox.SmsOutboxBackend",
    }
    settings.KEFU_PUBLIC_URL = "https://kefu.shop.example"
    settings.NOTICE_QUIET_HOURS = "21:00-08:00"
    settings.TIME_ZONE = "Asia/Shanghai"
    backend_for.cache_clear()
    yield
    backend_for.cache_clear()


@pytest.fixture
def daytime(monkeypatch):  # type: ignore[no-untyped-def]
    """It is 10:00 in Shanghai: no quiet hours."""
    return clock_at(monkeypatch, datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))


def clock_at(monkeypatch, when: datetime):  # type: ignore[no-untyped-def]
    current = {"now": when}
    monkeypatch.setattr(timezone, "now", lambda: current["now"])
    return current


def customer_ticket(
    *, language: str = "", preferred: str = "", email: str | None = "kim@example.com"
) -> Ticket:
    ticket = intake(phone=PHONE, email=email, text="杯子坏了").ticket
    customer = ticket.customer
    customer.language = language
    customer.preferred_channel = preferred
    customer.save(update_fields=["language", "preferred_channel"])
    return Ticket.objects.select_related("customer").get(pk=ticket.pk)


def agent_case(ticket: Ticket) -> Case:
    order = make_order(customer=ticket.customer)
    return case_open(
        order=order,
        items=[ItemClaim(order_item=order.items.get(sku="MUG-1"), quantity=1)],
        type="return_refund",  # type: ignore[arg-type]
        reason=reason(),
        description="杯子有裂纹",
        amount=Decimal("50.00"),
        opened_by="agent",  # type: ignore[arg-type]
        ticket=ticket,
        now=NOW,
    )


def whole_return(case: Case) -> None:
    case_review(case=case, approve=True, return_address="上海市浦东新区 售后仓", now=NOW)
    case_return_tracking(case=case, carrier="SF", tracking_number="SF0001", now=NOW)
    case_goods_received(case=case, now=NOW)
    case_receive(case=case, passed=True, now=NOW)
    case_refund(case=case, amount=Decimal("50.00"), method="original", reference="R1", now=NOW)
    case_complete(case=case, now=NOW)


RETURN_STEPS = [
    "case.submitted",
    "case.waiting_for_return",
    "case.return_shipped",
    "case.received",
    "case.inspected",
    "case.refunded",
    "case.completed",
]


def notices(ticket: Ticket) -> list[Message]:
    return list(ticket.messages.exclude(notice="").order_by("pk"))


def test_the_outbox_holds_one_notice_per_step_in_chinese(
    daytime, django_capture_on_commit_callbacks
):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        case = agent_case(ticket)
        whole_return(case)

    entries = list(OutboxEntry.objects.filter(ticket_number=ticket.number).order_by("pk"))
    assert [m.notice for m in notices(ticket)] == RETURN_STEPS
    assert len(entries) == len(RETURN_STEPS)
    assert {e.channel for e in entries} == {"email"}
    assert {e.to for e in entries} == {"kim@example.com"}
    assert {e.kind for e in entries} == {"notification"}
    assert entries[0].subject == f"售后申请已受理：{case.number}"
    assert "已受理" in entries[0].body and "https://kefu.shop.example/status/" in entries[0].body
    assert "上海市浦东新区 售后仓" in entries[1].body
    assert "SF SF0001" in entries[2].body
    assert "¥50.00" in entries[5].body
    assert "马克杯 × 1" in entries[3].body
    assert all(m.is_automatic and m.author is None for m in notices(ticket))
    assert {m.delivery_status for m in notices(ticket)} == {DeliveryStatus.SENT}
    # Each one is on the trail; a notice is no response to the customer.
    trail = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.NOTICE)
    assert [e.data["event"] for e in trail] == RETURN_STEPS
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_the_outbox_holds_one_notice_per_step_in_english(
    daytime, django_capture_on_commit_callbacks
):
    ticket = customer_ticket(language="en", preferred=Channel.EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        case = agent_case(ticket)
        whole_return(case)

    entries = list(OutboxEntry.objects.filter(ticket_number=ticket.number).order_by("pk"))
    assert len(entries) == len(RETURN_STEPS)
    assert entries[0].subject == f"After-sales request received: {case.number}"
    assert entries[0].body.startswith("Hello, your after-sales request")
    assert "within 4 working hours" in entries[0].body  # submitted: 240 business minutes
    assert "within 3 business days" in entries[1].body  # waiting for the return: 1440
    assert "50.00 has been refunded" in entries[5].body
    assert not any("您好" in e.body for e in entries)
    assert all(e.body.startswith("Hello") for e in entries)


def test_the_preferred_channel_is_honoured_and_sms_is_short_with_the_link(
    daytime, django_capture_on_commit_callbacks
):
    ticket = customer_ticket(preferred=Channel.SMS)
    with django_capture_on_commit_callbacks(execute=True):
        case = agent_case(ticket)

    entry = OutboxEntry.objects.get(ticket_number=ticket.number)
    assert (entry.channel, entry.to) == ("sms", PHONE)
    assert entry.body.startswith(f"售后单{case.number}已受理")
    assert entry.body.endswith("https://kefu.shop.example/status/")


def test_without_a_preference_the_tickets_own_channel_is_used_if_it_reaches_them(
    daytime, django_capture_on_commit_callbacks
):
    ticket = intake(user_id="u-77", text="杯子坏了").ticket  # an app ticket
    with django_capture_on_commit_callbacks(execute=True):
        agent_case(ticket)

    assert OutboxEntry.objects.get(ticket_number=ticket.number).channel == "app"


def test_an_opted_out_number_gets_no_sms_the_notice_goes_by_email(
    daytime, django_capture_on_commit_callbacks
):
    SmsOptOut.objects.create(phone=PHONE, keyword="TD")
    ticket = customer_ticket(preferred=Channel.SMS)
    with django_capture_on_commit_callbacks(execute=True):
        agent_case(ticket)

    entry = OutboxEntry.objects.get(ticket_number=ticket.number)
    assert (entry.channel, entry.to) == ("email", "kim@example.com")


def test_no_way_to_reach_the_customer_is_on_the_trail(daytime):
    SmsOptOut.objects.create(phone=PHONE, keyword="TD")
    ticket = customer_ticket(preferred=Channel.SMS, email=None)
    with translation.override("en"):
        agent_case(ticket)

    assert notices(ticket) == []
    trail = TicketEvent.objects.get(ticket=ticket, kind=EventKind.NOTICE)
    assert trail.data["event"] == "case.submitted"
    assert "no way to reach" in trail.data["to"]


def test_a_quiet_hours_sms_is_held_until_eight_in_the_morning(
    monkeypatch, agent_client, django_capture_on_commit_callbacks
):
    clock = clock_at(monkeypatch, datetime(2026, 11, 20, 22, 30, tzinfo=SHANGHAI))
    ticket = customer_ticket(preferred=Channel.SMS)
    with django_capture_on_commit_callbacks(execute=True):
        agent_case(ticket)

    (message,) = notices(ticket)
    morning = datetime(2026, 11, 21, 8, 0, tzinfo=SHANGHAI)
    assert message.delivery_due_at == morning
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert not OutboxEntry.objects.exists()
    assert Notice.objects.get(message=message).held_until == morning
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "11-21 08:00" in page

    clock["now"] = datetime(2026, 11, 21, 7, 59, tzinfo=SHANGHAI)
    outbox.outbox_sweep()
    assert not OutboxEntry.objects.exists()

    clock["now"] = datetime(2026, 11, 21, 8, 0, 10, tzinfo=SHANGHAI)
    outbox.outbox_sweep()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert OutboxEntry.objects.get().channel == "sms"


def test_an_urgent_ticket_sms_is_not_held(monkeypatch, django_capture_on_commit_callbacks):
    clock_at(monkeypatch, datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI))
    ticket = customer_ticket(preferred=Channel.SMS)
    Ticket.objects.filter(pk=ticket.pk).update(tier=Tier.URGENT)
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        agent_case(ticket)

    (message,) = notices(ticket)
    assert message.delivery_status == DeliveryStatus.SENT
    assert OutboxEntry.objects.get().channel == "sms"


def test_quiet_hours_apply_to_sms_only_and_not_to_urgent_notices():
    night = datetime(2026, 11, 20, 21, 0, tzinfo=SHANGHAI)
    early = datetime(2026, 11, 21, 7, 59, tzinfo=SHANGHAI)
    morning = datetime(2026, 11, 21, 8, 0, tzinfo=SHANGHAI)
    assert held_until(channel="sms", urgent=False, now=night) == morning
    assert held_until(channel="sms", urgent=False, now=early) == morning
    assert held_until(channel="sms", urgent=False, now=morning) is None
    assert held_until(channel="sms", urgent=False, now=night - timedelta(minutes=1)) is None
    assert held_until(channel="sms", urgent=True, now=night) is None
    assert held_until(channel="email", urgent=False, now=night) is None


class Failing:
    """A provider that is never reachable."""

    def send(self, outbound: Outbound) -> DeliveryResult:
        raise TransientDeliveryError("provider unavailable")


def test_a_failed_notice_is_retried_by_the_outbox_then_shown_failed_to_the_agent(
    daytime, settings, agent_client, django_capture_on_commit_callbacks
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": f"{__name__}.Failing",
    }
    backend_for.cache_clear()
    ticket = customer_ticket(preferred=Channel.EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        agent_case(ticket)

    (message,) = notices(ticket)
    assert (message.delivery_status, message.delivery_attempts) == (DeliveryStatus.QUEUED, 1)

    Message.objects.filter(pk=message.pk).update(
        delivery_due_at=daytime["now"] - outbox.SWEEP_GRACE - timedelta(seconds=1)
    )
    outbox.outbox_sweep()
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_attempts) == (DeliveryStatus.FAILED, 2)
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f'action="/tickets/{ticket.number}/messages/{message.pk}/retry/"' in page


def test_a_step_rolled_back_gives_no_notice(daytime, django_capture_on_commit_callbacks):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        case = agent_case(ticket)

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort):
        with transaction.atomic():
            case_review(case=case, approve=True, return_address="仓库", now=NOW)
            raise Abort

    assert [m.notice for m in notices(ticket)] == ["case.submitted"]
    assert OutboxEntry.objects.count() == 1


def test_a_redelivered_case_event_gives_no_second_notice(
    daytime, django_capture_on_commit_callbacks
):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        case = agent_case(ticket)
        case_review(case=case, approve=True, return_address="仓库", now=NOW)
        event = {"carrier": "SF", "tracking_number": "SF9"}
        first = case_apply_event(
            case_number=case.number, event_id="e-1", kind="return.shipped", data=event, now=NOW
        )
        again = case_apply_event(
            case_number=case.number, event_id="e-1", kind="return.shipped", data=event, now=NOW
        )

    assert (first.applied, again.applied) == (True, False)
    assert [m.notice for m in notices(ticket)].count("case.return_shipped") == 1


def test_the_same_event_is_never_announced_twice(daytime):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    context = {"order_number": "SO1", "tracking": "SF 1", "expected": "明天"}
    first = notice_send(ticket=ticket, event="logistics_anomaly", context=context, key="late:SF1")
    again = notice_send(ticket=ticket, event="logistics_anomaly", context=context, key="late:SF1")

    assert first is not None and again is None
    assert "订单 SO1 的包裹（SF 1）运输出现延误" in first.body
    assert first.subject == "包裹延误致歉：订单 SO1"


def test_a_case_the_customer_opened_themself_gives_no_submitted_notice(daytime):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    case = open_case(make_order(customer=ticket.customer), ticket=ticket)  # by the customer
    case_review(case=case, approve=True, return_address="仓库", now=NOW)

    assert [m.notice for m in notices(ticket)] == ["case.waiting_for_return"]


def test_ticket_changes_the_customer_should_know_of(
    daytime, agent, django_capture_on_commit_callbacks
):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent.user)
        ticket_set_status(ticket=ticket, status=Status.PENDING_CUSTOMER, actor=agent.user)
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)

    assert [m.notice for m in notices(ticket)] == ["ticket.pending_customer", "ticket.resolved"]
    subjects = list(OutboxEntry.objects.order_by("pk").values_list("subject", flat=True))
    assert subjects == [f"需要您的补充信息：{ticket.number}", f"问题已解决：{ticket.number}"]


def test_an_answer_on_the_self_service_page_is_announced_elsewhere(daytime, agent):
    web = intake(email="kim@example.com", channel=Channel.WEB, text="请问退款到哪了").ticket
    ticket_reply(ticket=web, author=agent, body="已为您查询")

    (message,) = notices(web)
    assert (message.notice, message.channel) == ("ticket.replied", "email")
    assert (
        message.body
        == f"您好，客服已回复您的工单 {web.number}，请点击查看：https://kefu.shop.example/status/"
    )
    app = intake(user_id="u-88", text="你好").ticket
    ticket_reply(ticket=app, author=agent, body="您好")
    assert notices(app) == []  # the reply itself reaches them


def test_no_notice_for_an_erased_customer(daytime):
    ticket = customer_ticket(preferred=Channel.EMAIL)
    ticket.customer.erased_at = timezone.now()
    ticket.customer.save(update_fields=["erased_at"])

    assert notice_send(ticket=ticket, event="ticket.resolved", context={}, key="x") is None


def test_the_sms_backends_refuse_an_opted_out_number():
    from channels_ingest.outbox import SmsOutboxBackend
    from channels_ingest.sms.delivery import TwilioBackend

    SmsOptOut.objects.create(phone=PHONE, keyword="TD")
    for backend in (TwilioBackend(), SmsOutboxBackend()):
        assert backend.accepts(PHONE) is False
        assert backend.accepts("+8613900009999") is True
    refused = SmsOutboxBackend().send(Outbound(channel="sms", to=PHONE, body="hi"))
    assert refused.status == DeliveryStatus.FAILED
    assert not OutboxEntry.objects.exists()


def test_a_ticket_the_customer_closed_with_the_bot_gives_no_resolved_notice(daytime):
    from tickets.services.delivery import automatic_message

    ticket = customer_ticket(preferred=Channel.EMAIL)
    automatic_message(ticket=ticket, body="很高兴帮到您", is_bot=True, now=timezone.now())
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)

    assert notices(ticket) == []


def test_a_mistyped_quiet_hours_setting_never_stops_the_change(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    clock_at(monkeypatch, datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI))
    settings.NOTICE_QUIET_HOURS = "nine till eight"
    ticket = customer_ticket(preferred=Channel.SMS)
    with django_capture_on_commit_callbacks(execute=True):
        case = agent_case(ticket)

    assert case.pk is not None
    (message,) = notices(ticket)
    assert message.delivery_status == DeliveryStatus.SENT  # no quiet hours known: not held


def test_quiet_hours_set_off_send_at_night_without_a_complaint(
    monkeypatch, settings, caplog, django_capture_on_commit_callbacks
):
    clock_at(monkeypatch, datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI))
    settings.NOTICE_QUIET_HOURS = "off"  # an empty variable in the environment is the default
    ticket = customer_ticket(preferred=Channel.SMS)
    with caplog.at_level("ERROR", logger="kefu.tickets.quiet_hours"):
        with django_capture_on_commit_callbacks(execute=True):
            agent_case(ticket)

    (message,) = notices(ticket)
    assert message.delivery_status == DeliveryStatus.SENT
    assert caplog.records == []


def test_a_fault_in_a_notice_leaves_the_change_it_announces(daytime, monkeypatch):
    from aftersales.services import notices as module

    def broken(**kwargs: object) -> None:
        raise RuntimeError("template store unavailable")

    monkeypatch.setattr(module, "notice_send", broken)
    ticket = customer_ticket(preferred=Channel.EMAIL)
    case = agent_case(ticket)

    assert Case.objects.filter(pk=case.pk).exists()
    assert notices(ticket) == []
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.AFTERSALES).count() == 1
