"""Macros: variables filled from the ticket, actions carried out with the reply, personal
and shared ones seen and edited by the right people."""

import pytest
from django.urls import reverse

from tests.factories import TeamFactory, intake, make_agent
from tickets import hooks
from tickets.compose import macro_render, macro_variables, macros_for
from tickets.models import (
    DeliveryStatus,
    Direction,
    EventKind,
    IdentityKind,
    Macro,
    Message,
    Status,
    Ticket,
    TicketEvent,
)

pytestmark = pytest.mark.django_db


def _macro(**fields: object) -> Macro:
    values: dict[str, object] = {
        "name": "退款说明",
        "body": "您好 {customer_name}",
        "language": "zh-hans",
    }
    values.update(fields)
    return Macro.objects.create(**values)


def test_variables_are_filled_from_the_ticket_the_customer_and_the_agent(agent):
    agent.user.first_name = "小李"
    agent.user.save()
    result = intake(text="订单号 SO20261120-88 的草莓坏了", user_id="u-var", name="张伟")
    macro = _macro(
        body="{customer_name}您好，工单 {ticket_number}，"
        "订单 {order_number}，我是{agent_name}。{unknown}"
    )

    text = macro_render(macro, macro_variables(ticket=result.ticket, agent=agent))

    assert text == (
        f"张伟您好，工单 {result.ticket.number}，订单 SO20261120-88，我是小李。{{unknown}}"
    )


def test_the_order_number_comes_from_the_hook_before_the_messages(agent):
    result = intake(text="订单号 SO20261120-88 的草莓坏了", user_id="u-hook")
    hooks.ticket_order_number_register("test.order", lambda ticket: "LINKED-42")
    try:
        variables = macro_variables(ticket=result.ticket, agent=agent)
    finally:
        hooks._ticket_order_numbers.pop("test.order")

    assert variables["order_number"] == "LINKED-42"


def test_a_macro_cannot_reach_attributes_through_its_text(agent):
    result = intake(text="hi", user_id="u-attr", name="Emma")
    macro = _macro(body="{customer_name.__class__} {0} {ticket_number!r}")

    text = macro_render(macro, macro_variables(ticket=result.ticket, agent=agent))

    assert text == "{customer_name.__class__} {0} {ticket_number!r}"


def test_agents_see_their_own_their_teams_and_global_macros_only(agent, default_team):
    colleague = make_agent(teams=[default_team])
    other_team = TeamFactory()
    own = _macro(name="mine", owner=agent)
    _macro(name="colleague's", owner=colleague)
    team = _macro(name="team", team=default_team)
    _macro(name="other team", team=other_team)
    everyone = _macro(name="global")

    assert set(macros_for(agent=agent)) == {own, team, everyone}


def test_the_picker_lists_rendered_macros_of_this_agent(agent_client, agent, default_team):
    result = intake(text="hello", user_id="u-pick", name="Emma Wilson")
    _macro(name="Greeting", body="Hi {customer_name}, about {ticket_number}", language="en")
    _macro(name="someone else's", owner=make_agent(teams=[default_team]))

    response = agent_client.get(reverse("tickets:ticket_macros", args=[result.ticket.number]))

    assert response.status_code == 200
    macros = response.json()["macros"]
    assert [m["name"] for m in macros] == ["Greeting"]
    assert macros[0]["text"] == f"Hi Emma Wilson, about {result.ticket.number}"
    assert macros[0]["language"] == "en"


def test_the_picker_is_refused_to_other_teams_customers_and_anonymous(client, default_team):
    result = intake(text="hello", user_id="u-pick2")
    url = reverse("tickets:ticket_macros", args=[result.ticket.number])
    stranger = make_agent(teams=[TeamFactory()])

    anonymous = client.get(url)
    client.force_login(stranger.user)
    other_team = client.get(url)

    assert anonymous.status_code == 302
    assert other_team.status_code == 404


def test_a_reply_with_a_macro_carries_out_its_actions_once(agent_client, agent, default_team):
    result = intake(text="我要退款", user_id="u-act")
    after_sales = TeamFactory(name="售后")
    macro = _macro(set_status=Status.PENDING_CUSTOMER, add_tag="退款", transfer_to=after_sales)
    url = reverse("tickets:send", args=[result.ticket.number])
    form = {
        "body": "已为您登记退款",
        "kind": "reply",
        "client_token": "tok-1",
        "macros": str(macro.pk),
    }

    agent_client.post(url, form)
    agent_client.post(url, form)  # the same form again: one reply, actions once

    ticket = Ticket.objects.get(pk=result.ticket.pk)
    assert ticket.status == Status.PENDING_CUSTOMER
    assert ticket.tags == ["退款"]
    assert ticket.team == after_sales
    replies = Message.objects.filter(ticket=ticket, direction=Direction.OUT, is_automatic=False)
    assert [m.body for m in replies] == ["已为您登记退款"]
    moved = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED, data__macro=macro.pk)
    assert [(e.data["team_from"], e.data["team_to"]) for e in moved] == [
        (default_team.pk, after_sales.pk)
    ]


def test_a_macro_the_agent_may_not_use_does_nothing(agent_client, default_team):
    result = intake(text="我要退款", user_id="u-act2")
    private = _macro(owner=make_agent(teams=[default_team]), set_status=Status.RESOLVED)

    agent_client.post(
        reverse("tickets:send", args=[result.ticket.number]),
        {"body": "好的", "kind": "reply", "macros": str(private.pk)},
    )

    assert Ticket.objects.get(pk=result.ticket.pk).status == Status.OPEN


def test_an_agent_creates_a_personal_macro_but_cannot_share_one(agent_client, agent):
    form = {
        "name": "Thanks",
        "body": "Thank you {customer_name}",
        "language": "en",
        "sharing": "personal",
    }

    created = agent_client.post(reverse("tickets:macro_new"), form)
    shared = agent_client.post(
        reverse("tickets:macro_new"), {**form, "name": "All", "sharing": "global"}
    )

    assert created.status_code == 302
    macro = Macro.objects.get(name="Thanks")
    assert macro.owner == agent and macro.team is None
    assert shared.status_code == 200  # the form again: "global" is no choice for an agent
    assert not Macro.objects.filter(name="All").exists()


def test_a_supervisor_shares_a_macro_with_a_team(client, supervisor, default_team):
    client.force_login(supervisor.user)
    form = {
        "name": "物流延误",
        "body": "您的订单 {order_number} 正在加急处理",
        "language": "zh-hans",
        "sharing": f"team:{default_team.pk}",
        "set_status": Status.PENDING_CUSTOMER,
    }

    response = client.post(reverse("tickets:macro_new"), form)

    assert response.status_code == 302
    macro = Macro.objects.get(name="物流延误")
    assert (macro.owner, macro.team, macro.set_status) == (None, default_team, "pending_customer")


def test_agents_cannot_edit_or_delete_shared_or_others_macros(agent_client, default_team):
    shared = _macro(name="shared", team=default_team)
    others = _macro(name="others", owner=make_agent(teams=[default_team]))

    for macro in (shared, others):
        edit = agent_client.post(
            reverse("tickets:macro_edit", args=[macro.pk]),
            {"name": "x", "body": "y", "language": "en", "sharing": "personal"},
        )
        delete = agent_client.post(reverse("tickets:macro_delete", args=[macro.pk]))
        assert (edit.status_code, delete.status_code) == (404, 404)
    assert sorted(Macro.objects.values_list("name", flat=True)) == ["others", "shared"]


def test_an_agent_edits_and_deletes_their_own_macro(agent_client, agent):
    macro = _macro(name="old", owner=agent)

    agent_client.post(
        reverse("tickets:macro_edit", args=[macro.pk]),
        {"name": "new", "body": "text", "language": "en", "sharing": "personal", "add_tag": "vip"},
    )
    macro.refresh_from_db()
    assert (macro.name, macro.add_tag, macro.owner) == ("new", "vip", agent)

    agent_client.post(reverse("tickets:macro_delete", args=[macro.pk]))
    assert not Macro.objects.filter(pk=macro.pk).exists()


def test_the_macros_page_needs_a_staff_role(client, agent):
    from tests.factories import UserFactory

    assert client.get(reverse("tickets:macros")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("tickets:macros")).status_code == 403
    client.force_login(agent.user)
    assert client.get(reverse("tickets:macros")).status_code == 200


def test_a_reply_on_another_channel_goes_to_the_chosen_contact(
    agent_client, django_capture_on_commit_callbacks
):
    result = intake(text="快递怎么还没到", user_id="u-route", phone="13800138000")
    phone = result.ticket.customer.identities.get(kind=IdentityKind.PHONE)

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("tickets:send", args=[result.ticket.number]),
            {"body": "您好，已为您催件", "kind": "reply", "recipient": str(phone.pk)},
        )

    reply = Message.objects.get(ticket=result.ticket, direction=Direction.OUT, is_automatic=False)
    assert (reply.channel, reply.recipient) == ("sms", phone)
    assert reply.delivery_status == DeliveryStatus.SENT
    from channels_ingest.models import OutboxEntry

    entry = OutboxEntry.objects.get(reference=f"kefu-{reply.pk}")
    assert (entry.channel, entry.to) == ("sms", "+8613800138000")


def test_a_contact_of_another_customer_is_refused(agent_client):
    result = intake(text="hi", user_id="u-route2")
    other = intake(text="hi", user_id="u-route3", phone="13900139000")
    foreign = other.ticket.customer.identities.get(kind=IdentityKind.PHONE)

    response = agent_client.post(
        reverse("tickets:send", args=[result.ticket.number]),
        {"body": "hello", "kind": "reply", "recipient": str(foreign.pk)},
        follow=True,
    )

    assert response.status_code == 200
    assert not Message.objects.filter(
        ticket=result.ticket, direction=Direction.OUT, is_automatic=False
    ).exists()


def test_the_demo_seeds_macros_in_both_languages_once(settings):
    from django.core.management import call_command

    call_command("seed_demo", "--force")
    call_command("seed_demo", "--force")

    languages = set(Macro.objects.values_list("language", flat=True))
    assert languages == {"zh-hans", "en"}
    assert Macro.objects.filter(name="物流延误 · 转物流组", transfer_to__isnull=False).count() == 1
    assert Macro.objects.filter(owner__user__username="agent").count() == 1


def test_the_reply_box_lists_the_customers_contacts_masked(agent_client):
    from tickets.identity import mask_identity

    result = intake(text="hi", user_id="u-box", phone="13800138000", email="zw@example.com")
    phone = result.ticket.customer.identities.get(kind=IdentityKind.PHONE)
    email = result.ticket.customer.identities.get(kind=IdentityKind.EMAIL)

    page = agent_client.get(reverse("tickets:ticket", args=[result.ticket.number])).content.decode()

    assert (
        f'<option value="{phone.pk}">短信 · {mask_identity("phone", phone.value)}</option>' in page
    )
    masked_email = mask_identity("email", email.value)
    assert f'<option value="{email.pk}">电子邮件 · {masked_email}</option>' in page
    assert "13800138000" not in page and "zw@example.com" not in page


def test_sending_is_refused_to_other_teams_non_staff_and_anonymous(client, default_team):
    from tests.factories import UserFactory

    result = intake(text="hi", user_id="u-send-roles")
    url = reverse("tickets:send", args=[result.ticket.number])
    form = {"body": "hello", "kind": "reply"}

    anonymous = client.post(url, form)
    client.force_login(UserFactory())
    customer_like = client.post(url, form)
    client.force_login(make_agent(teams=[TeamFactory()]).user)
    other_team = client.post(url, form)

    assert (anonymous.status_code, customer_like.status_code, other_team.status_code) == (
        302,
        403,
        404,
    )
    assert not Message.objects.filter(ticket=result.ticket, direction=Direction.OUT).exists()
