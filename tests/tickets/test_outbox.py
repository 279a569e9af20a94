"""The outbox: a reply or a bot decision survives a broker outage and a dead worker, is done
once, and a delivery that keeps failing ends visibly failed, for an agent to retry."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from tests.factories import intake
from tests.kb.factories import make_article
from tickets import tasks
from tickets.delivery import DeliveryResult, Outbound, TransientDeliveryError, backend_for
from tickets.models import DeliveryStatus, Direction, Message
from tickets.services import outbox
from tickets.services.workflow import ticket_reply

pytestmark = pytest.mark.django_db


class Recorder:
    """A delivery backend that records what it sends and fails while `failing` is set."""

    sent: list[Outbound] = []
    failing = False

    def send(self, outbound: Outbound) -> DeliveryResult:
        if Recorder.failing:
            raise TransientDeliveryError("provider unavailable")
        Recorder.sent.append(outbound)
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id=f"p-{len(Recorder.sent)}")


@pytest.fixture(autouse=True)
def recorder(settings):  # type: ignore[no-untyped-def]
    Recorder.sent = []
    Recorder.failing = False
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "app": f"{__name__}.Recorder",
    }
    backend_for.cache_clear()
    yield Recorder
    backend_for.cache_clear()


@pytest.fixture
def broker_down(monkeypatch):  # type: ignore[no-untyped-def]
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver_message, "delay", refuse)
    monkeypatch.setattr(tasks.bot_consider, "delay", refuse)
    return monkeypatch


def _time_passes(message: Message) -> None:
    """Whatever the message waits for (a backoff, a lease, the sweep's grace) is over."""
    past = timezone.now() - outbox.SWEEP_GRACE - timedelta(seconds=1)
    Message.objects.filter(pk=message.pk, delivery_due_at__isnull=False).update(
        delivery_due_at=past
    )
    Message.objects.filter(pk=message.pk, bot_due_at__isnull=False).update(bot_due_at=past)


def test_with_the_broker_down_the_agent_is_answered_and_the_sweep_sends_the_reply_later(
    agent_client, broker_down, django_capture_on_commit_callbacks
):
    ticket = intake(user_id="u-1").ticket

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/tickets/{ticket.number}/reply/", {"body": "您好，已为您处理", "kind": "reply"}
        )

    assert response.status_code == 302
    reply = ticket.messages.get(direction=Direction.OUT)
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.delivery_due_at is not None
    assert Recorder.sent == []

    broker_down.undo()
    _time_passes(reply)
    assert outbox.outbox_sweep() == {"deliveries": 1, "bot": 0}

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.delivery_due_at is None
    assert [sent.body for sent in Recorder.sent] == ["您好，已为您处理"]
    assert outbox.outbox_sweep() == {"deliveries": 0, "bot": 0}


def test_the_same_reply_form_sent_twice_is_one_reply(
    agent_client, django_capture_on_commit_callbacks
):
    ticket = intake(user_id="u-2").ticket
    form = {"body": "马上为您查询", "kind": "reply", "client_token": "c0ffee" * 5}

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(f"/tickets/{ticket.number}/reply/", form)
        agent_client.post(f"/tickets/{ticket.number}/reply/", form)

    assert ticket.messages.filter(direction=Direction.OUT).count() == 1
    assert len(Recorder.sent) == 1


def test_the_ticket_page_gives_each_reply_form_its_own_key(agent_client):
    ticket = intake(user_id="u-3").ticket

    first = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    second = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    def key(page: str) -> str:
        start = page.index('name="client_token" value="') + len('name="client_token" value="')
        return page[start : page.index('"', start)]

    assert len(key(first)) == 32
    assert key(first) != key(second)


def test_a_send_whose_worker_died_is_sent_once_by_the_sweep_after_its_lease(
    agent, django_capture_on_commit_callbacks, monkeypatch
):
    ticket = intake(user_id="u-4").ticket
    monkeypatch.setattr(tasks.deliver_message, "delay", lambda message_id: None)  # never runs
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=agent, body="hello")
    monkeypatch.undo()
    # A worker claimed it and was killed before sending: the lease holds it meanwhile.
    assert outbox.delivery_claim(reply.pk, now=timezone.now())
    assert outbox.outbox_sweep() == {"deliveries": 0, "bot": 0}
    tasks.deliver_message(reply.pk)  # a redelivered copy of the task while the lease holds
    assert Recorder.sent == []

    _time_passes(reply)  # the lease runs out
    outbox.outbox_sweep()
    tasks.deliver_message(reply.pk)  # and a late copy of the task after it was sent

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert [sent.reference for sent in Recorder.sent] == [f"kefu-{reply.pk}"]


def test_a_failing_provider_is_retried_with_backoff_then_fails_visibly_and_an_agent_retries(
    agent, agent_client, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    Recorder.failing = True
    ticket = intake(user_id="u-5").ticket
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=agent, body="hello")

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_attempts) == (DeliveryStatus.QUEUED, 1)
    waited = reply.delivery_due_at - timezone.now()
    assert timedelta(seconds=5) < waited <= timedelta(seconds=10)
    assert (
        "已失败 1 次，正在重试" in agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    )

    for _ in range(2):
        _time_passes(reply)
        outbox.outbox_sweep()
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_attempts) == (DeliveryStatus.FAILED, 3)
    assert reply.delivery_due_at is None
    assert reply.delivery_error == "provider unavailable"
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    retry_url = f"/tickets/{ticket.number}/messages/{reply.pk}/retry/"
    assert f'action="{retry_url}"' in page

    Recorder.failing = False
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(retry_url)
        again = agent_client.post(retry_url)  # sent already: not sent twice

    assert response.status_code == again.status_code == 302
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert len(Recorder.sent) == 1


def test_only_a_failed_message_of_a_ticket_the_agent_can_open_is_retried(
    agent, agent_client, django_capture_on_commit_callbacks
):
    ticket = intake(user_id="u-6").ticket
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=agent, body="hello")
    other = intake(user_id="u-7").ticket

    wrong_ticket = agent_client.post(f"/tickets/{other.number}/messages/{reply.pk}/retry/")
    sent_already = agent_client.post(f"/tickets/{ticket.number}/messages/{reply.pk}/retry/")

    assert wrong_ticket.status_code == 404
    assert sent_already.status_code == 302
    assert len(Recorder.sent) == 1


def test_a_bot_decision_is_not_lost_when_the_broker_is_down_and_is_taken_once(
    default_team, broker_down, django_capture_on_commit_callbacks
):
    make_article(
        title="退款多久到账",
        questions=("退款什么时候到账", "钱什么时候退回来"),
        body="退款审核通过后原路退回，一般1-3个工作日到账。",
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = intake(user_id="u-8", text="退款什么时候到账？")

    question = result.message
    question.refresh_from_db()
    assert question.bot_due_at is not None
    assert not result.ticket.messages.filter(is_bot=True).exists()

    broker_down.undo()
    _time_passes(question)
    assert outbox.outbox_sweep()["bot"] == 1
    tasks.bot_consider(question.pk)  # a second copy of the task

    (answer,) = result.ticket.messages.filter(is_bot=True)
    assert "1-3个工作日" in answer.body
    question.refresh_from_db()
    assert question.bot_due_at is None
    assert outbox.outbox_sweep() == {"deliveries": 0, "bot": 0}


def test_a_reply_on_a_self_service_ticket_is_delivered_on_the_status_page(
    agent, django_capture_on_commit_callbacks
):
    from tickets.inbound import Identity, InboundMessage
    from tickets.services.intake import intake_message
    from tickets.services.workflow import ticket_reply

    ticket = intake_message(
        inbound=InboundMessage(
            channel="web",
            provider_id="portal:web-reply-1",
            identities=[Identity(kind="email", value="wang@example.com")],
            text="我的退款申请进展如何？",
        )
    ).ticket
    assert ticket.channel == "web"

    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=agent, body="您好，退款已在处理中。")

    reply.refresh_from_db()
    # No backend is asked (there is none for the status page); nothing is left owed.
    assert reply.delivery_status == DeliveryStatus.DELIVERED
    assert reply.delivery_due_at is None and reply.delivery_error == ""
