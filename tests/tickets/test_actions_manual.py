"""Tickets opened by hand: for an answered phone call (from the screen pop, with the caller)
and for a customer at a store's counter. They go through intake: triage, SLA, routing."""

import pytest
from django.utils import timezone, translation

from sla.models import SlaClock
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import (
    AuditEntry,
    Call,
    CallState,
    Channel,
    Customer,
    EventKind,
    RoutingRule,
    Store,
    Ticket,
    TicketEvent,
)
from tickets.services.manual import ManualTicket, ticket_open_by_hand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


@pytest.fixture
def store(db):  # type: ignore[no-untyped-def]
    return Store.objects.create(name="徐家汇店", city="上海")


@pytest.fixture
def answered_call(default_team, agent):  # type: ignore[no-untyped-def]
    customer = intake(phone="13800138000", text="之前的问题", name="王芳").ticket.customer
    now = timezone.now()
    return Call.objects.create(
        call_id="c-1",
        customer=customer,
        from_number="+8613800138000",
        to_number="+861058880000",
        team=default_team,
        state=CallState.ANSWERED,
        answered_by=agent,
        started_at=now,
        answered_at=now,
    )


def test_a_store_ticket_is_triaged_routed_and_timed_like_any_other(default_team, agent, store):
    logistics = TeamFactory(name="物流组")
    RoutingRule.objects.create(category="logistics", team=logistics)

    ticket = ticket_open_by_hand(
        request=ManualTicket(
            channel=Channel.STORE,
            text="快递一直没有送到，物流信息三天没更新",
            name="李雷",
            phone="13900139000",
            store=store,
        ),
        actor=agent.user,
    )

    assert ticket.channel == Channel.STORE
    assert ticket.store == store
    assert ticket.category == "logistics" and ticket.team == logistics
    assert SlaClock.objects.filter(subject_id=ticket.pk).exists()
    assert ticket.customer.identities.get().value == "+8613900139000"
    assert ticket.messages.get().body.startswith("快递一直没有送到")
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.OPENED_BY_HAND)
    assert event.actor == agent.user and event.data["store"] == store.pk
    assert AuditEntry.objects.get(action="ticket_opened_by_hand").object_id == str(ticket.pk)


def test_a_ticket_by_hand_is_always_new_even_with_an_open_ticket_on_the_channel(
    default_team, agent, answered_call
):
    first = ticket_open_by_hand(
        request=ManualTicket(channel=Channel.PHONE, text="第一件事", call=answered_call),
        actor=agent.user,
    )
    second = ticket_open_by_hand(
        request=ManualTicket(
            channel=Channel.PHONE, text="第二件事", customer=answered_call.customer
        ),
        actor=agent.user,
    )
    assert first.pk != second.pk
    assert first.customer_id == second.customer_id == answered_call.customer_id
    answered_call.refresh_from_db()
    assert answered_call.ticket_id == first.pk  # the call is linked to the first one


def test_a_ticket_by_hand_is_refused_without_what_it_needs(default_team, agent, store):
    with pytest.raises(Exception, match="store"):
        ticket_open_by_hand(
            request=ManualTicket(channel=Channel.STORE, text="x", phone="13900139000"),
            actor=agent.user,
        )
    store.is_active = False
    store.save()
    with pytest.raises(Exception, match="store"):
        ticket_open_by_hand(
            request=ManualTicket(channel=Channel.STORE, text="x", phone="13900139000", store=store),
            actor=agent.user,
        )
    with pytest.raises(Exception, match="phone number or email"):
        ticket_open_by_hand(request=ManualTicket(channel=Channel.PHONE, text="x"), actor=agent.user)
    with pytest.raises(Exception, match="phone calls and store"):
        ticket_open_by_hand(
            request=ManualTicket(channel=Channel.EMAIL, text="x", phone="13900139000"),
            actor=agent.user,
        )
    assert Ticket.objects.count() == 0


def test_the_call_form_is_prefilled_with_the_caller(agent_client, answered_call):
    page = agent_client.get(f"/new-ticket/?call={answered_call.pk}").content.decode()
    assert "王芳" in page
    assert "+86138****8000" in page and "13800138000" not in page
    assert 'name="channel" value="phone"' in page

    response = agent_client.post(
        "/new-ticket/", {"channel": "phone", "call": answered_call.pk, "text": "来电咨询退款"}
    )
    ticket = Ticket.objects.get(channel=Channel.PHONE, messages__body="来电咨询退款")
    assert response.status_code == 302 and ticket.number in response["Location"]
    assert ticket.customer == answered_call.customer


def test_the_call_page_offers_a_new_ticket(agent_client, answered_call):
    page = agent_client.get(f"/calls/{answered_call.pk}/").content.decode()
    assert f'href="/new-ticket/?call={answered_call.pk}"' in page


def test_the_store_form(agent_client, store):
    page = agent_client.get("/new-ticket/?channel=store").content.decode()
    assert "徐家汇店" in page
    response = agent_client.post(
        "/new-ticket/",
        {
            "channel": "store",
            "store": store.pk,
            "name": "韩梅梅",
            "phone": "13700137000",
            "text": "买的牛奶过期了",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(channel=Channel.STORE)
    assert ticket.store == store
    assert Customer.objects.get(pk=ticket.customer_id).name == "韩梅梅"
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "徐家汇店" in page


def test_the_form_shows_a_refusal_instead_of_opening(agent_client, store):
    response = agent_client.post(
        "/new-ticket/", {"channel": "store", "store": store.pk, "text": "没有联系方式"}
    )
    assert response.status_code == 200
    assert "请填写客户的电话或邮箱" in response.content.decode()  # the site speaks zh-Hans
    assert Ticket.objects.count() == 0


def test_an_agent_cannot_open_a_ticket_for_a_call_of_another_team(client, answered_call):
    outsider = make_agent(teams=[TeamFactory()])
    client.force_login(outsider.user)
    assert client.get(f"/new-ticket/?call={answered_call.pk}").status_code == 404
    response = client.post(
        "/new-ticket/", {"channel": "phone", "call": answered_call.pk, "text": "x"}
    )
    assert response.status_code == 404
    assert not Ticket.objects.filter(channel=Channel.PHONE).exists()


def test_anonymous_users_cannot_open_tickets(client, store):
    response = client.post(
        "/new-ticket/", {"channel": "store", "store": store.pk, "text": "x", "phone": "13700137000"}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Ticket.objects.count() == 0


def test_the_demo_has_stores_and_custom_fields(db):
    from io import StringIO

    from django.core.management import call_command

    from tickets.models import CustomField

    call_command("seed_demo", force=True, stdout=StringIO())
    call_command("seed_demo", force=True, stdout=StringIO())  # twice: nothing doubles

    assert Store.objects.count() == 4
    assert set(Store.objects.values_list("city", flat=True)) == {"上海", "北京", "广州"}
    assert set(CustomField.objects.values_list("key", flat=True)) == {
        "order_number",
        "sku",
        "refund_amount",
    }
