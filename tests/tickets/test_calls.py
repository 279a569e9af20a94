"""Calls in the core: merging PBX events in any order, missed-call tickets, the timeline, the
screen pop and creating an unknown caller."""

import itertools
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.test import Client

from sla.models import Milestone, SlaClock
from tests.factories import TeamFactory, UserFactory, intake, make_agent
from tests.support.environment import requires_postgres
from tests.support.sockets import communicator, receive_until, session_cookie_for
from tickets.models import (
    AuditEntry,
    Call,
    CallCause,
    CallState,
    Channel,
    ContactIdentity,
    Customer,
    Direction,
    Ticket,
)
from tickets.services.calls import CallEvent, CallEventKind, call_event
from tickets.templatetags.kefu_format import talk_time

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 3, 10, 0, tzinfo=SHANGHAI)
CALLER = "+8613800138000"
OUR_LINE = "+861058880000"


def ring(call_id: str, *, caller: str = CALLER, at: datetime = T0, **extra: object) -> CallEvent:
    return CallEvent(
        kind=CallEventKind.NEW_CALL,
        call_id=call_id,
        at=at,
        direction=extra.pop("direction", "in"),  # type: ignore[arg-type]
        from_number=caller,
        to_number=OUR_LINE,
        queue=str(extra.pop("queue", "support")),
        **extra,  # type: ignore[arg-type]
    )


def answer(call_id: str, *, user: str = "", at: datetime = T0 + timedelta(seconds=8)) -> CallEvent:
    return CallEvent(
        kind=CallEventKind.ANSWER,
        call_id=call_id,
        at=at,
        users=(user,) if user else (),
        answering_number="+861058880001",
    )


def hangup(
    call_id: str,
    *,
    cause: str = CallCause.NORMAL_CLEARING,
    at: datetime = T0 + timedelta(seconds=98),
    duration: int | None = None,
    **extra: object,
) -> CallEvent:
    return CallEvent(
        kind=CallEventKind.HANGUP,
        call_id=call_id,
        at=at,
        cause=cause,
        duration=duration,
        **extra,  # type: ignore[arg-type]
    )


def known_customer(phone: str = CALLER, name: str = "王芳") -> Customer:
    ticket = intake(phone=phone, name=name, text="上次的退款还没到").ticket
    return ticket.customer


# --- merging events -----------------------------------------------------------------------


def test_an_answered_call_ends_with_who_answered_when_and_for_how_long(agent):
    customer = known_customer()

    call_event(event=ring("c1"))
    call_event(event=answer("c1", user=agent.user.username))
    result = call_event(
        event=hangup("c1", duration=90, recording_url="https://pbx.example/rec/c1.mp3")
    )

    call = Call.objects.get(call_id="c1")
    assert result.call.pk == call.pk
    assert (call.state, call.cause, call.direction) == ("ended", "normalClearing", "in")
    assert (call.from_number, call.to_number, call.queue) == (CALLER, OUR_LINE, "support")
    assert call.customer == customer
    assert call.answered_by == agent
    assert call.answering_number == "+861058880001"
    assert (call.started_at, call.answered_at) == (T0, T0 + timedelta(seconds=8))
    assert (call.ended_at, call.duration) == (T0 + timedelta(seconds=98), 90)
    assert call.recording_url == "https://pbx.example/rec/c1.mp3"
    assert call.ticket is None
    assert result.missed_call is None
    assert Ticket.objects.count() == 1  # only the customer's earlier ticket


def test_events_in_any_order_give_the_same_call(agent):
    events = {
        "ring": lambda cid: ring(cid),
        "answer": lambda cid: answer(cid, user=agent.user.username),
        "hangup": lambda cid: hangup(cid, duration=90),
    }
    outcomes = set()
    for number, order in enumerate(itertools.permutations(events)):
        call_id = f"order-{number}"
        for name in order:
            call_event(event=events[name](call_id))
        call = Call.objects.get(call_id=call_id)
        outcomes.add(
            (
                call.state,
                call.cause,
                call.direction,
                call.from_number,
                call.started_at,
                call.answered_at,
                call.ended_at,
                call.duration,
                call.answered_by_id,
            )
        )

    assert outcomes == {
        (
            "ended",
            "normalClearing",
            "in",
            CALLER,
            T0,
            T0 + timedelta(seconds=8),
            T0 + timedelta(seconds=98),
            90,
            agent.pk,
        )
    }


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_events_of_a_new_call_arriving_at_once_make_one_call(default_team):
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver(event: CallEvent) -> None:
        try:
            barrier.wait(timeout=10)
            call_event(event=event)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=deliver, args=(answer("race"),)),
        threading.Thread(target=deliver, args=(hangup("race", duration=90),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    call = Call.objects.get(call_id="race")
    assert (call.state, call.duration, call.answered_at) == (
        "ended",
        90,
        T0 + timedelta(seconds=8),
    )


def test_a_repeated_new_call_after_the_hangup_does_not_bring_the_call_back(default_team):
    call_event(event=ring("c2"))
    call_event(event=hangup("c2", cause=CallCause.NORMAL_CLEARING, duration=30))

    again = call_event(event=ring("c2", at=T0 + timedelta(minutes=5)))

    assert again.created is False
    assert again.call.state == CallState.ENDED
    assert again.call.started_at == T0
    assert Call.objects.count() == 1


def test_without_a_duration_the_talk_time_is_the_time_between_answer_and_hangup(default_team):
    call_event(event=hangup("c3", at=T0 + timedelta(seconds=70)))
    call_event(event=answer("c3", at=T0 + timedelta(seconds=10)))

    call = Call.objects.get(call_id="c3")
    assert (call.state, call.duration) == ("ended", 60)


def test_a_recording_link_that_is_not_http_is_dropped(default_team):
    call_event(event=ring("c4"))
    call_event(event=hangup("c4", recording_url="javascript:alert(1)"))

    assert Call.objects.get(call_id="c4").recording_url == ""


def test_an_unknown_number_creates_no_customer_and_a_known_one_is_linked(default_team):
    call_event(event=ring("unknown", caller="+8613900139000"))
    customer = known_customer()
    call_event(event=ring("known"))

    assert Call.objects.get(call_id="unknown").customer is None
    assert Call.objects.get(call_id="known").customer == customer
    assert Customer.objects.count() == 1


def test_the_call_goes_to_the_team_given_else_the_default_team(default_team):
    sales = TeamFactory(name="sales")

    routed = call_event(event=ring("t1", team=sales)).call
    unrouted = call_event(event=ring("t2")).call

    assert (routed.team, unrouted.team) == (sales, default_team)


# --- missed calls -------------------------------------------------------------------------


@pytest.mark.parametrize("cause", [CallCause.NO_ANSWER, CallCause.CANCEL, CallCause.BUSY])
def test_a_missed_inbound_call_opens_a_call_back_ticket_with_its_sla_running(default_team, cause):
    call_event(event=ring("m1"))
    result = call_event(event=hangup("m1", cause=cause, at=T0 + timedelta(seconds=30)))

    ticket = Ticket.objects.get()
    message = ticket.messages.get()
    assert result.missed_call is not None and result.missed_call.ticket == ticket
    assert (ticket.channel, ticket.is_open, ticket.team) == (Channel.PHONE, True, default_team)
    assert message.direction == Direction.IN
    assert message.provider_id == "call:m1"
    assert "+86138****8000" in message.body and CALLER not in message.body
    assert "2025-06-03 10:00" in message.body
    assert ticket.customer.identities.get().value == CALLER
    clock = SlaClock.objects.get(subject_id=ticket.pk, milestone=Milestone.FIRST_RESPONSE)
    assert clock.satisfied_at is None
    assert ticket.sla_due_at is not None
    call = Call.objects.get(call_id="m1")
    assert (call.ticket, call.customer) == (ticket, ticket.customer)


def test_a_missed_call_threads_into_the_customers_open_phone_ticket(default_team):
    call_event(event=ring("first"))
    first = call_event(event=hangup("first", cause=CallCause.NO_ANSWER)).missed_call
    call_event(event=ring("second", at=T0 + timedelta(hours=1)))
    second = call_event(
        event=hangup("second", cause=CallCause.CANCEL, at=T0 + timedelta(hours=1, seconds=20))
    ).missed_call

    assert first is not None and second is not None
    assert second.ticket == first.ticket
    assert second.ticket_opened is False
    assert Ticket.objects.count() == 1
    assert first.ticket.messages.count() == 2


def test_a_missed_call_reported_twice_opens_one_ticket_with_one_message(default_team):
    call_event(event=ring("twice"))
    call_event(event=hangup("twice", cause=CallCause.NO_ANSWER))

    again = call_event(event=hangup("twice", cause=CallCause.NO_ANSWER))

    assert again.missed_call is None
    assert (Ticket.objects.count(), Ticket.objects.get().messages.count()) == (1, 1)


def test_a_hangup_before_the_new_call_still_opens_the_call_back_ticket(default_team):
    result = call_event(
        event=CallEvent(
            kind=CallEventKind.HANGUP,
            call_id="early",
            at=T0,
            direction="in",
            from_number="13800138000",
            to_number=OUR_LINE,
            cause=CallCause.NO_ANSWER,
        )
    )
    call_event(event=ring("early", at=T0 - timedelta(seconds=25)))

    call = Call.objects.get(call_id="early")
    assert result.missed_call is not None
    assert (call.state, call.started_at, call.from_number) == (
        "ended",
        T0 - timedelta(seconds=25),
        CALLER,
    )
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("direction", "caller", "cause"),
    [
        ("in", CALLER, CallCause.NORMAL_CLEARING),  # answered
        ("in", CALLER, CallCause.FORWARDED),
        ("out", CALLER, CallCause.NO_ANSWER),  # we called them
        ("in", "anonymous", CallCause.NO_ANSWER),  # withheld caller id: no one to call back
    ],
)
def test_calls_that_are_not_missed_inbound_calls_open_no_ticket(
    default_team, direction, caller, cause
):
    call_event(event=ring("n1", caller=caller, direction=direction))
    result = call_event(event=hangup("n1", cause=cause))

    assert result.missed_call is None
    assert Ticket.objects.count() == 0
    assert Call.objects.get().state == CallState.ENDED


def test_talk_time_reads_as_minutes_and_seconds():
    assert [talk_time(s) for s in (None, 0, 65, 3725)] == ["", "0:00", "1:05", "1:02:05"]


# --- pages --------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_customers_calls_on_the_timeline(agent_client, agent):
    agent_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    customer = known_customer()
    ticket = customer.tickets.get()
    call_event(event=ring("tl1"))
    call_event(event=answer("tl1", user=agent.user.username))
    call_event(event=hangup("tl1", duration=125, recording_url="https://pbx.example/rec/tl1.mp3"))
    call_event(event=ring("tl2", at=T0 + timedelta(hours=2)))
    call_event(
        event=hangup(
            "tl2",
            cause=CallCause.NO_ANSWER,
            at=T0 + timedelta(hours=2, seconds=30),
            voicemail_url="https://pbx.example/vm/tl2.mp3",
        )
    )

    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert page.count('class="msg call') == 2
    assert "Inbound call" in page
    assert f"Answered by {agent}" in page
    assert "Talk time 2:05" in page
    assert "Ended normally" in page and "No answer" in page
    assert 'href="https://pbx.example/rec/tl1.mp3"' in page
    assert 'href="https://pbx.example/vm/tl2.mp3"' in page
    assert CALLER not in page


def test_the_call_page_shows_the_caller_masked_and_their_open_tickets(agent_client):
    customer = known_customer()
    call = call_event(event=ring("p1")).call

    response = agent_client.get(f"/calls/{call.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "+86138****8000" in page and CALLER not in page
    assert customer.tickets.get().number in page
    assert 'id="create-customer"' not in page


def test_an_agent_creates_the_customer_of_an_unknown_caller(agent_client, agent):
    first = call_event(event=ring("u1", caller="13900139000")).call
    earlier = call_event(event=ring("u0", caller="+8613900139000", at=T0 - timedelta(days=1))).call
    assert 'id="create-customer"' in agent_client.get(f"/calls/{first.pk}/").content.decode()

    response = agent_client.post(f"/calls/{first.pk}/customer/", {"name": "李雷"})

    assert response.status_code == 302
    assert response["Location"] == f"/calls/{first.pk}/"
    customer = Customer.objects.get()
    assert customer.name == "李雷"
    assert list(customer.identities.values_list("kind", "value")) == [("phone", "+8613900139000")]
    assert set(customer.calls.values_list("pk", flat=True)) == {first.pk, earlier.pk}
    audit = AuditEntry.objects.get(action="customer_from_call")
    assert (audit.actor, audit.object_id) == (agent.user, str(customer.pk))


def test_creating_a_caller_that_exists_by_now_returns_that_customer(agent_client):
    call = call_event(event=ring("u2", caller="+8613700137000")).call
    existing = known_customer(phone="+8613700137000", name="先到")

    agent_client.post(f"/calls/{call.pk}/customer/", {"name": "后到"})

    assert Customer.objects.count() == 1
    assert Customer.objects.get().name == "先到"
    assert Call.objects.get(pk=call.pk).customer == existing


def test_creating_a_customer_from_a_call_is_refused_to_those_who_may_not(client, default_team):
    call = call_event(event=ring("u3", caller="+8613600136000")).call
    url = f"/calls/{call.pk}/customer/"

    anonymous = client.post(url)
    client.force_login(UserFactory())
    no_role = client.post(url)
    client.force_login(make_agent(teams=[TeamFactory()]).user)
    other_team = client.post(url)
    client.force_login(make_agent(teams=[default_team]).user)
    wrong_method = client.get(url)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert (no_role.status_code, other_team.status_code, wrong_method.status_code) == (
        403,
        404,
        405,
    )
    assert ContactIdentity.objects.count() == 0


def test_creating_a_customer_needs_the_csrf_token(default_team):
    call = call_event(event=ring("u4", caller="+8613500135000")).call
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_agent(teams=[default_team]).user)

    response = browser.post(f"/calls/{call.pk}/customer/", {"name": "x"})

    assert response.status_code == 403
    assert Customer.objects.count() == 0


def test_a_withheld_number_cannot_become_a_customer(agent_client, caplog):
    call = call_event(event=ring("u5", caller="anonymous")).call

    response = agent_client.post(f"/calls/{call.pk}/customer/", {"name": "x"})

    assert response.status_code == 400
    assert Customer.objects.count() == 0
    assert "refused customer creation" in caplog.text


def test_a_name_too_long_is_refused_400(agent_client):
    call = call_event(event=ring("u6", caller="+8613400134000")).call

    response = agent_client.post(f"/calls/{call.pk}/customer/", {"name": "长" * 201})

    assert response.status_code == 400
    assert Customer.objects.count() == 0


def test_the_queue_page_carries_the_screen_pop(agent_client):
    page = agent_client.get("/").content.decode()

    assert 'id="call-pops"' in page
    assert 'id="call-pop-template"' in page
    assert "kefu/calls.js" in page
    assert 'data-live-socket="/ws/agent/"' in page  # its events reach calls.js


# --- screen pop over the agent websocket ----------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_ringing_call_pops_up_for_the_agents_of_its_team_only():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    other = await database_sync_to_async(TeamFactory)()
    agent = await database_sync_to_async(make_agent)(teams=[team])
    outsider = await database_sync_to_async(make_agent)(teams=[other])
    customer = await database_sync_to_async(known_customer)()
    ticket = await database_sync_to_async(lambda: customer.tickets.get())()
    socket = communicator(
        "/ws/agent/", await database_sync_to_async(session_cookie_for)(agent.user)
    )
    elsewhere = communicator(
        "/ws/agent/", await database_sync_to_async(session_cookie_for)(outsider.user)
    )
    assert (await socket.connect())[0] and (await elsewhere.connect())[0]

    result = await database_sync_to_async(call_event)(event=ring("ws1", team=team))
    pop = await receive_until(socket, "call.ringing")

    assert pop["call"]["id"] == result.call.pk
    assert pop["call"]["url"] == f"/calls/{result.call.pk}/"
    assert pop["customer"] == {"id": customer.pk, "name": "王芳", "is_vip": False}
    assert pop["phone"] == "+86138****8000"
    assert CALLER not in str(pop)
    assert [t["number"] for t in pop["open_tickets"]] == [ticket.number]
    assert pop["create_customer_url"] is None
    assert await elsewhere.receive_nothing(timeout=0.5)

    await database_sync_to_async(call_event)(event=answer("ws1", user=agent.user.username))
    update = await receive_until(socket, "call.updated")
    assert (update["call"]["state"], update["call"]["answered_by"]) == ("answered", str(agent))
    await socket.disconnect()
    await elsewhere.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_an_unknown_caller_pops_up_with_an_offer_to_create_them():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    agent = await database_sync_to_async(make_agent)(teams=[team])
    socket = communicator(
        "/ws/agent/", await database_sync_to_async(session_cookie_for)(agent.user)
    )
    assert (await socket.connect())[0]

    result = await database_sync_to_async(call_event)(event=ring("ws2", caller="+8613900139000"))
    pop = await receive_until(socket, "call.ringing")
    # A repeated newCall (the PBX retried) rings nobody's screen a second time.
    await database_sync_to_async(call_event)(event=ring("ws2", caller="+8613900139000"))

    assert pop["customer"] is None
    assert pop["phone"] == "+86139****9000"
    assert pop["create_customer_url"] == f"/calls/{result.call.pk}/customer/"
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
