"""A reply is refused while the customer wrote, or another agent replied, after the last
message the agent's page showed; the agent then sees what came and may send anyway."""

import pytest
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory, intake, make_agent
from tickets.models import Direction, Message
from tickets.services.reply_guard import ReplyOvertaken, ticket_reply_if_current
from tickets.services.workflow import ticket_add_note, ticket_reply

pytestmark = pytest.mark.django_db


def _last_id(ticket) -> int:  # type: ignore[no-untyped-def]
    return ticket.messages.order_by("-pk").values_list("pk", flat=True).first()


def _replies(ticket) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        ticket.messages.filter(direction=Direction.OUT, is_automatic=False)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def _send(client, ticket, body: str, seen: int | None, token: str = "") -> object:  # type: ignore[no-untyped-def]
    data = {"body": body, "kind": "reply", "client_token": token}
    if seen is not None:
        data["seen_message_id"] = str(seen)
    return client.post(f"/tickets/{ticket.number}/reply/", data)


def test_the_ticket_page_says_which_message_it_showed_last(agent_client):
    ticket = intake(user_id="u1", text="第一条").ticket
    intake(user_id="u1", text="第二条")

    html = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert f'name="seen_message_id" value="{_last_id(ticket)}"' in html


def test_a_reply_to_what_the_agent_saw_is_sent(agent_client):
    ticket = intake(user_id="u1", text="在吗").ticket

    response = _send(agent_client, ticket, "在的", seen=_last_id(ticket))

    assert response.status_code == 302
    assert _replies(ticket) == ["在的"]


def test_a_customer_message_that_came_after_the_page_loaded_stops_the_reply(agent_client):
    ticket = intake(user_id="u1", text="我的橙子坏了").ticket
    seen = _last_id(ticket)
    intake(user_id="u1", text="不用了，已经解决")

    response = _send(agent_client, ticket, "给您退款", seen=seen)

    html = response.content.decode()
    assert response.status_code == 409
    assert _replies(ticket) == []
    assert 'id="reply-overtaken"' in html
    assert 'id="reply-overtaken" role="alert" hidden' not in html
    assert "给您退款</textarea>" in html  # the reply is still in its box
    # The refused form now counts the new message as seen: sending it again goes through.
    assert f'name="seen_message_id" value="{_last_id(ticket)}"' in html


def test_sending_again_after_the_warning_sends_the_reply_once(agent_client):
    ticket = intake(user_id="u1", text="我的橙子坏了").ticket
    seen = _last_id(ticket)
    intake(user_id="u1", text="照片发您了")
    refused = _send(agent_client, ticket, "收到", seen=seen, token="form-1")
    assert refused.status_code == 409

    sent = _send(agent_client, ticket, "收到", seen=_last_id(ticket), token="form-1")
    again = _send(agent_client, ticket, "收到", seen=_last_id(ticket), token="form-1")

    assert (sent.status_code, again.status_code) == (302, 302)
    assert _replies(ticket) == ["收到"]


def test_another_agents_reply_after_the_page_loaded_stops_the_reply(agent_client, default_team):
    ticket = intake(user_id="u1", text="发票怎么开").ticket
    seen = _last_id(ticket)
    colleague = make_agent(teams=[default_team])
    ticket_reply(ticket=ticket, author=colleague, body="已为您开具")

    response = _send(agent_client, ticket, "请提供抬头", seen=seen)

    assert response.status_code == 409
    assert _replies(ticket) == ["已为您开具"]
    assert colleague.user.username in response.content.decode()


def test_the_agents_own_reply_and_notes_do_not_stop_the_next_reply(agent_client, agent):
    ticket = intake(user_id="u1", text="发票怎么开").ticket
    seen = _last_id(ticket)
    ticket_reply(ticket=ticket, author=agent, body="稍等")
    ticket_add_note(ticket=ticket, author=agent, body="查一下开票系统")
    Message.objects.create(
        ticket=ticket,
        direction=Direction.OUT,
        channel=ticket.channel,
        body="我们已收到您的消息",
        is_automatic=True,
        created_at=timezone.now(),
    )

    response = _send(agent_client, ticket, "已开好", seen=seen)

    assert response.status_code == 302
    assert _replies(ticket) == ["稍等", "已开好"]


def test_a_form_that_names_no_seen_message_is_not_checked(agent_client):
    ticket = intake(user_id="u1", text="在吗").ticket
    intake(user_id="u1", text="在吗？？")

    response = _send(agent_client, ticket, "在的", seen=None)

    assert response.status_code == 302
    assert _replies(ticket) == ["在的"]


def test_an_internal_note_is_never_stopped(agent_client):
    ticket = intake(user_id="u1", text="在吗").ticket
    seen = _last_id(ticket)
    intake(user_id="u1", text="在吗？？")

    response = agent_client.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "客户很急", "kind": "note", "seen_message_id": str(seen)},
    )

    assert response.status_code == 302
    assert list(
        ticket.messages.filter(direction=Direction.NOTE).values_list("body", flat=True)
    ) == ["客户很急"]


def test_the_service_names_what_arrived_and_the_newest_message(agent):
    ticket = intake(user_id="u1", text="一").ticket
    seen = _last_id(ticket)
    intake(user_id="u1", text="二")
    intake(user_id="u1", text="三")

    with pytest.raises(ReplyOvertaken) as refused:
        ticket_reply_if_current(
            ticket=ticket, author=agent, body="好的", client_token="", seen_message_id=seen
        )

    assert [message.body for message in refused.value.unseen] == ["二", "三"]
    assert refused.value.last_id == _last_id(ticket)
    assert _replies(ticket) == []


def test_the_reply_box_can_ask_what_it_has_not_seen(agent_client, default_team):
    ticket = intake(user_id="u1", text="一").ticket
    seen = _last_id(ticket)
    intake(user_id="u1", text="二")
    ticket_reply(ticket=ticket, author=make_agent(teams=[default_team]), body="三")

    answer = agent_client.get(f"/tickets/{ticket.number}/unseen/", {"seen": seen}).json()
    nothing = agent_client.get(f"/tickets/{ticket.number}/unseen/", {"seen": _last_id(ticket)})

    assert answer == {
        "unseen": 2,
        "from_customer": 1,
        "replies": 1,
        "last_id": _last_id(ticket),
    }
    assert nothing.json()["unseen"] == 0


def test_the_unseen_check_wants_a_message_id(agent_client):
    ticket = intake(user_id="u1").ticket

    response = agent_client.get(f"/tickets/{ticket.number}/unseen/", {"seen": "latest"})

    assert response.status_code == 400


def test_the_unseen_check_and_the_reply_follow_the_ticket_roles(client, default_team):
    ticket = intake(user_id="u1").ticket
    outsider = make_agent(teams=[TeamFactory()])
    customer_user = UserFactory()
    url = f"/tickets/{ticket.number}/unseen/?seen=0"

    anonymous = client.get(url)
    client.force_login(customer_user)
    no_role = client.get(url)
    client.force_login(outsider.user)
    other_team = client.get(url)
    other_team_reply = _send(client, ticket, "我来回复", seen=0)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert no_role.status_code == 403
    assert other_team.status_code == 404
    assert other_team_reply.status_code == 404
    assert _replies(ticket) == []


def test_the_reply_box_refuses_a_reply_overtaken_by_the_customer_and_keeps_its_text(
    agent_client, agent
):
    """The ticket page's reply box (with files and macros) guards like the plain form."""
    from tests.factories import intake as take_in
    from tickets.models import Message as Stored

    ticket = take_in(phone="13800138000", text="我的快递呢", provider_id="box-1").ticket
    seen = Stored.objects.filter(ticket=ticket).order_by("-pk").values_list("pk", flat=True)[0]
    take_in(phone="13800138000", text="算了，我要取消订单", provider_id="box-2")

    response = agent_client.post(
        f"/tickets/{ticket.number}/send/",
        {"body": "马上帮您查", "kind": "reply", "seen_message_id": seen, "client_token": "b1"},
    )

    assert response.status_code == 409
    assert not Stored.objects.filter(ticket=ticket, direction="out").exists()
    assert "马上帮您查" in response.content.decode()  # still in its box
    again = agent_client.post(
        f"/tickets/{ticket.number}/send/",
        {
            "body": "马上帮您查",
            "kind": "reply",
            "seen_message_id": response.context["reply_form"].initial["seen_message_id"],
            "client_token": "b1",
        },
    )
    assert again.status_code == 302
    assert Stored.objects.filter(ticket=ticket, direction="out", body="马上帮您查").count() == 1
