"""A customer with something of everything Kefu holds: two identities, a ticket with a
message, an attachment (a file on disk), a reply, a call, a raw inbound record and an outbox
entry; and another customer who must stay untouched."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState
from tests.factories import UserFactory
from tickets.inbound import Identity, InboundAttachment, InboundMessage
from tickets.models import Call, CallDirection, CallState, Customer, Message, Status, Ticket
from tickets.services.intake import intake_message
from tickets.services.workflow import ticket_reply, ticket_set_status

PHOTO = b"\x89PNG fake photo of a mouldy loaf"


@dataclass
class Held:
    customer: Customer
    ticket: Ticket
    message: Message
    call: Call
    record: InboundRecord
    other: Customer
    other_ticket: Ticket


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def admin_user(db):  # type: ignore[no-untyped-def]
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def held(media, agent, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        result = intake_message(
            inbound=InboundMessage(
                channel="sms",
                provider_id="SM-held-1",
                identities=[
                    Identity(kind="phone", value="13800138000"),
                    Identity(kind="email", value="zhang.san@example.com"),
                ],
                name="张三",
                subject="面包发霉",
                text="我叫张三，住北京市朝阳区，买的面包发霉了",
                attachments=[
                    InboundAttachment(
                        filename="loaf.png",
                        content_type="image/png",
                        size=len(PHOTO),
                        md5=hashlib.md5(PHOTO).hexdigest(),  # noqa: S324
                        sha256=hashlib.sha256(PHOTO).hexdigest(),
                        data=PHOTO,
                    )
                ],
            )
        )
        ticket = result.ticket
        ticket_reply(ticket=ticket, author=agent, body="张三您好，我们马上退款。")
    record = InboundRecord.objects.create(
        channel="sms",
        provider_id="SM-held-1",
        payload={"From": "13800138000", "Body": "我叫张三，住北京市朝阳区"},
        state=InboundState.PROCESSED,
        ticket_number=ticket.number,
    )
    call = Call.objects.create(
        call_id="call-held-1",
        customer=ticket.customer,
        ticket=ticket,
        direction=CallDirection.IN,
        from_number="+8613800138000",
        to_number="4008000000",
        state=CallState.ENDED,
        started_at=timezone.now() - timedelta(minutes=5),
        duration=42,
        recording_url="https://pbx.example.com/rec/held-1.wav",
    )
    other = intake_message(
        inbound=InboundMessage(
            channel="sms",
            provider_id="SM-other-1",
            identities=[Identity(kind="phone", value="13900139000")],
            name="李四",
            text="李四的问题",
        )
    ).ticket
    InboundRecord.objects.create(
        channel="sms",
        provider_id="SM-other-1",
        payload={"From": "13900139000", "Body": "李四的问题"},
        state=InboundState.PROCESSED,
        ticket_number=other.number,
    )
    return Held(
        customer=ticket.customer,
        ticket=ticket,
        message=ticket.messages.get(direction="in"),
        call=call,
        record=record,
        other=other.customer,
        other_ticket=other,
    )


def close(ticket: Ticket, agent) -> None:  # type: ignore[no-untyped-def]
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)
