"""Merging tickets of one customer (and undoing it within a day), splitting messages off a
ticket, linking related tickets; a customer's later replies thread into the survivor."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from channels_ingest.models import SmsChannel
from tests.channels_ingest.email.raw import mail
from tests.channels_ingest.test_sms import TOKEN as SMS_TOKEN
from tests.channels_ingest.test_sms import URL as SMS_URL
from tests.channels_ingest.test_sms import signed_post, sms
from tests.factories import TeamFactory, intake, make_agent
from tests.support.mail import customer_mail
from tickets.models import (
    AuditEntry,
    Direction,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketMerge,
)
from tickets.services.actions import ActionRefused, ticket_link, ticket_links, ticket_unlink
from tickets.services.merging import ticket_merge, ticket_merge_undo, ticket_split
from tickets.services.workflow import ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    """The refusals are matched in English (they are translated, zh-Hans first)."""
    with translation.override("en"):
        yield


@pytest.fixture
def pair(default_team):  # type: ignore[no-untyped-def]
    """Two open tickets of one customer: one by app, one by SMS."""
    first = intake(user_id="u-1", phone="13800138000", text="订单还没到").ticket
    second = intake(phone="13800138000", channel="sms", text="请尽快处理我的订单").ticket
    assert first.customer_id == second.customer_id and first.pk != second.pk
    return first, second


def test_a_merge_moves_the_messages_and_points_the_merged_ticket_to_the_survivor(pair, agent):
    survivor, merged = pair
    moved = list(merged.messages.values_list("pk", flat=True))

    merge = ticket_merge(source=merged, target=survivor, actor=agent.user, reason="同一件事")

    merged.refresh_from_db()
    assert merged.merged_into == survivor
    assert merged.status == Status.CLOSED and merged.is_open is False
    assert merged.messages.count() == 0
    assert set(survivor.messages.values_list("pk", flat=True)) >= set(moved)
    assert merge.moved["messages"] == moved
    assert TicketEvent.objects.get(ticket=merged, kind=EventKind.MERGED).data["to"] == (
        survivor.number
    )
    received = TicketEvent.objects.get(ticket=survivor, kind=EventKind.MERGE_RECEIVED)
    assert received.data["from"] == merged.number and received.actor == agent.user
    entry = AuditEntry.objects.get(action="ticket_merged")
    assert entry.object_id == str(survivor.pk) and entry.data["from"] == merged.pk


def test_tickets_of_two_customers_are_not_merged(default_team, agent):
    one = intake(user_id="u-1", text="a").ticket
    two = intake(user_id="u-2", text="b").ticket
    with pytest.raises(ActionRefused, match="same customer"):
        ticket_merge(source=one, target=two, actor=agent.user)
    assert not TicketMerge.objects.exists()
    assert Ticket.objects.get(pk=one.pk).merged_into is None


def test_a_ticket_is_not_merged_into_itself_or_twice(pair, agent):
    survivor, merged = pair
    with pytest.raises(ActionRefused):
        ticket_merge(source=survivor, target=survivor, actor=agent.user)
    ticket_merge(source=merged, target=survivor, actor=agent.user)
    with pytest.raises(ActionRefused, match="already"):
        ticket_merge(source=merged, target=survivor, actor=agent.user)
    assert TicketMerge.objects.count() == 1


def test_an_undo_within_a_day_restores_the_messages_and_the_status(pair, agent):
    survivor, merged = pair
    moved = set(merged.messages.values_list("pk", flat=True))
    merge = ticket_merge(source=merged, target=survivor, actor=agent.user)
    # What arrives in the survivor after the merge stays there.
    later = intake(user_id="u-1", text="还有一件事").message
    assert later.ticket_id == survivor.pk

    ticket_merge_undo(merge=merge, actor=agent.user)

    merged.refresh_from_db()
    assert merged.merged_into is None
    assert merged.status == Status.NEW and merged.is_open is True
    assert set(merged.messages.values_list("pk", flat=True)) == moved
    assert Message.objects.get(pk=later.pk).ticket_id == survivor.pk
    merge.refresh_from_db()
    assert merge.undone_by == agent.user and merge.undone_at is not None
    assert TicketEvent.objects.filter(kind=EventKind.MERGE_UNDONE).count() == 2
    assert AuditEntry.objects.filter(action="ticket_merge_undone").count() == 1
    with pytest.raises(ActionRefused, match="already been undone"):
        ticket_merge_undo(merge=merge, actor=agent.user)


def test_an_undo_after_a_day_is_refused(pair, agent):
    survivor, merged = pair
    merge = ticket_merge(source=merged, target=survivor, actor=agent.user)
    TicketMerge.objects.filter(pk=merge.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    with pytest.raises(ActionRefused, match="within a day"):
        ticket_merge_undo(merge=merge, actor=agent.user)
    merged.refresh_from_db()
    assert merged.merged_into == survivor and merged.messages.count() == 0


def test_an_sms_after_the_merge_threads_into_the_survivor(
    client, pair, agent, django_capture_on_commit_callbacks
):
    SmsChannel.objects.create(
        name="shop", number="+8610690000", account_sid="AC123", auth_token=SMS_TOKEN
    )
    survivor, merged = pair
    ticket_merge(source=merged, target=survivor, actor=agent.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, SMS_URL, sms("SM-after", "怎么样了？"))

    assert response.status_code == 200
    arrived = Message.objects.get(provider_id="SM-after")
    assert arrived.ticket_id == survivor.pk
    assert Ticket.objects.count() == 2  # no new ticket opened


@pytest.fixture
def mail_api(default_team, agent):  # type: ignore[no-untyped-def]
    from tests.factories import issue_token

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {issue_token('mail-pipe', scopes=['inbound:email'])}"
    )
    return client


def _post_mail(api, raw: bytes, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = api.post("/api/v1/inbound/email", raw, content_type="message/rfc822")
    assert response.status_code in (200, 201, 202)
    return response


def test_an_email_reply_to_the_merged_ticket_threads_into_the_survivor(
    mail_api, agent, django_capture_on_commit_callbacks
):
    _post_mail(mail_api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    merged = Ticket.objects.get()
    ours = ticket_reply(ticket=merged, author=agent, body="请拍照给我们")
    _post_mail(
        mail_api,
        customer_mail("m2@example.com", subject="另一个问题"),
        django_capture_on_commit_callbacks,
    )
    survivor = Ticket.objects.exclude(pk=merged.pk).get()
    ticket_merge(source=merged, target=survivor, actor=agent.user)

    # By the reply address of the merged ticket alone.
    _post_mail(
        mail_api,
        mail(
            "From: zhang.wei@example.com",
            f"To: reply+{merged.reply_token}@kefu.localhost",
            "Subject: 又来了",
            "Message-ID: <m3@example.com>",
            body="照片见附件",
        ),
        django_capture_on_commit_callbacks,
    )
    # By In-Reply-To our reply on the merged ticket.
    _post_mail(
        mail_api,
        customer_mail(
            "m4@example.com",
            subject="回复: 订单破损",
            extra=(f"In-Reply-To: <{ours.email_message_id}>",),
        ),
        django_capture_on_commit_callbacks,
    )
    # By the merged ticket's tag in the subject.
    _post_mail(
        mail_api,
        customer_mail("m5@example.com", subject=f"RE: [K#{merged.number}] 订单破损"),
        django_capture_on_commit_callbacks,
    )

    assert Ticket.objects.count() == 2
    for message_id in ("m3@example.com", "m4@example.com", "m5@example.com"):
        arrived = Message.objects.get(email_message_id=message_id)
        assert arrived.ticket_id == survivor.pk, message_id
    merged.refresh_from_db()
    assert merged.status == Status.CLOSED and merged.messages.count() == 0


def test_the_merge_view_and_its_undo(agent_client, pair):
    survivor, merged = pair
    response = agent_client.post(
        f"/tickets/{merged.number}/merge/", {"into": survivor.number, "reason": "重复"}
    )
    assert response.status_code == 302 and survivor.number in response["Location"]
    merge = TicketMerge.objects.get()
    page = agent_client.get(f"/tickets/{merged.number}/").content.decode()
    assert 'id="merged-banner"' in page and survivor.number in page
    assert f"/ticket-merges/{merge.pk}/undo/" in page

    agent_client.post(f"/ticket-merges/{merge.pk}/undo/")
    assert Ticket.objects.get(pk=merged.pk).merged_into is None


def test_an_agent_cannot_merge_into_or_undo_on_a_ticket_they_may_not_see(client, pair, agent):
    survivor, merged = pair
    other_team = TeamFactory()
    outsider = make_agent(teams=[other_team])
    Ticket.objects.filter(pk=survivor.pk).update(team=other_team)
    client.force_login(agent.user)
    client.post(f"/tickets/{merged.number}/merge/", {"into": survivor.number})
    assert not TicketMerge.objects.exists()

    merge = ticket_merge(source=merged, target=survivor, actor=outsider.user)
    assert client.post(f"/ticket-merges/{merge.pk}/undo/").status_code == 404
    assert TicketMerge.objects.get().undone_at is None


def test_a_split_moves_the_chosen_messages_to_a_new_linked_ticket(pair, agent):
    survivor, merged = pair
    ticket_merge(source=merged, target=survivor, actor=agent.user)
    sms_message = survivor.messages.get(channel="sms")

    new = ticket_split(
        ticket=survivor, message_ids=[sms_message.pk], actor=agent.user, subject="另一件事"
    )

    assert new.pk != survivor.pk and new.customer_id == survivor.customer_id
    assert new.subject == "另一件事" and new.team_id == survivor.team_id
    assert list(new.messages.values_list("pk", flat=True)) == [sms_message.pk]
    assert survivor.messages.filter(pk=sms_message.pk).exists() is False
    assert new.sla_due_at is not None  # clocks of its own
    assert ticket_links(survivor) == [new]
    assert TicketEvent.objects.get(ticket=survivor, kind=EventKind.SPLIT).data["to"] == new.number
    assert TicketEvent.objects.get(ticket=new, kind=EventKind.SPLIT_FROM).data["from"] == (
        survivor.number
    )
    assert AuditEntry.objects.get(action="ticket_split").data["messages"] == [sms_message.pk]


def test_a_split_of_all_messages_or_of_none_or_of_another_tickets_is_refused(pair, agent):
    first, second = pair
    every = list(first.messages.values_list("pk", flat=True))
    with pytest.raises(ActionRefused, match="at least one"):
        ticket_split(ticket=first, message_ids=every, actor=agent.user)
    with pytest.raises(ActionRefused):
        ticket_split(ticket=first, message_ids=[], actor=agent.user)
    with pytest.raises(ActionRefused, match="not all on this ticket"):
        ticket_split(
            ticket=first,
            message_ids=list(second.messages.values_list("pk", flat=True)),
            actor=agent.user,
        )
    assert Ticket.objects.count() == 2


def test_the_split_view(agent_client, pair):
    first, _second = pair
    extra = intake(user_id="u-1", text="另外，发票也要改").message
    response = agent_client.post(f"/tickets/{first.number}/split/", {"messages": [extra.pk]})
    new = Ticket.objects.order_by("-pk").first()
    assert response.status_code == 302 and new.number in response["Location"]
    assert Message.objects.get(pk=extra.pk).ticket_id == new.pk
    assert first.messages.filter(direction=Direction.IN).count() == 1


def test_links_show_on_both_pages_and_can_be_removed(agent_client, pair, agent):
    first, second = pair
    response = agent_client.post(f"/tickets/{first.number}/link/", {"other": second.number})
    assert response.status_code == 302
    assert TicketLink.objects.count() == 1
    for one, two in ((first, second), (second, first)):
        page = agent_client.get(f"/tickets/{one.number}/").content.decode()
        assert f'href="/tickets/{two.number}/"' in page
        event = TicketEvent.objects.get(ticket=one, kind=EventKind.LINKED)
        assert event.data["to"] == two.number
    with translation.override("en"), pytest.raises(ActionRefused, match="already linked"):
        ticket_link(ticket=second, other=first, actor=agent.user)
    with pytest.raises(ActionRefused):
        ticket_link(ticket=first, other=first, actor=agent.user)

    ticket_unlink(ticket=second, other=first, actor=agent.user)
    assert TicketLink.objects.count() == 0
    assert TicketEvent.objects.filter(kind=EventKind.UNLINKED).count() == 2
    assert AuditEntry.objects.filter(action__in=["tickets_linked", "tickets_unlinked"]).count() == 2


def test_a_link_to_a_ticket_of_another_team_shows_only_its_number_status_and_team(
    client, pair, agent
):
    first, second = pair
    other_team = TeamFactory(name="售后组")
    Ticket.objects.filter(pk=second.pk).update(team=other_team, subject="机密主题")
    ticket_link(
        ticket=first, other=second, actor=make_agent(teams=[other_team], role="supervisor").user
    )
    client.force_login(agent.user)
    page = client.get(f"/tickets/{first.number}/").content.decode()
    assert second.number in page and "售后组" in page
    assert "机密主题" not in page
