"""Transfer a ticket to another team or agent with a note; change its category, tags and
custom fields; the page of a ticket of another team, and asking that team for access."""

import pytest
from django.utils import timezone, translation

from sla.models import SlaClock
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import (
    AuditEntry,
    CustomField,
    CustomFieldType,
    EventKind,
    Notification,
    Ticket,
    TicketEvent,
)
from tickets.services.actions import (
    ActionRefused,
    ticket_set_category,
    ticket_set_fields,
    ticket_set_tags,
    ticket_transfer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    """The refusals are matched in English (they are translated, zh-Hans first)."""
    with translation.override("en"):
        yield


@pytest.fixture
def logistics(db):  # type: ignore[no-untyped-def]
    return TeamFactory(name="物流组")


@pytest.fixture
def ticket(default_team):  # type: ignore[no-untyped-def]
    return intake(text="我想问一下积分怎么用").ticket


def test_a_transfer_moves_the_ticket_to_the_team_and_records_why(
    ticket, agent, logistics, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_transfer(
            ticket=ticket, team=logistics, agent=None, note="快递问题", actor=agent.user
        )

    ticket.refresh_from_db()
    assert ticket.team == logistics
    assert ticket.assignee is None
    assert ticket.last_transfer is not None
    assert ticket.last_transfer.note == "快递问题"
    assert ticket.last_transfer.from_team.name == "客服一组"
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.TRANSFERRED)
    assert event.actor == agent.user
    assert event.data["note"] == "快递问题"
    assert event.data["to_team"] == logistics.pk
    entry = AuditEntry.objects.get(action="ticket_transferred")
    assert entry.object_id == str(ticket.pk) and entry.data["to_team"] == logistics.pk
    assert len(callbacks) >= 1  # published after commit


def test_a_transfer_is_published_to_the_old_and_the_new_queue(
    ticket, agent, logistics, monkeypatch
):
    sent: list[tuple[list[str], dict[str, object]]] = []
    monkeypatch.setattr(
        "kefu.realtime.publish_on_commit", lambda groups, event: sent.append((list(groups), event))
    )
    old_team = ticket.team_id
    ticket_transfer(ticket=ticket, team=logistics, agent=None, note="why", actor=agent.user)
    assert len(sent) == 1
    groups, event = sent[0]
    assert f"team.{logistics.pk}" in groups
    assert f"team.{old_team}" in groups
    assert f"ticket.{ticket.pk}" in groups
    assert event["type"] == "ticket.updated"
    assert event["ticket"]["team_id"] == logistics.pk  # type: ignore[index]


def test_a_transfer_to_an_agent_assigns_them_in_their_team(ticket, agent, logistics):
    other = make_agent(teams=[logistics])
    ticket_transfer(ticket=ticket, team=None, agent=other, note="他熟悉", actor=agent.user)
    ticket.refresh_from_db()
    assert ticket.assignee == other
    assert ticket.team == logistics


def test_a_transfer_to_an_inactive_agent_is_refused(ticket, agent, logistics):
    other = make_agent(teams=[logistics])
    other.user.is_active = False
    other.user.save()
    with pytest.raises(ActionRefused, match="inactive"):
        ticket_transfer(ticket=ticket, team=None, agent=other, note="x", actor=agent.user)
    ticket.refresh_from_db()
    assert ticket.team.name == "客服一组"
    assert not TicketEvent.objects.filter(kind=EventKind.TRANSFERRED).exists()


def test_a_transfer_without_a_note_or_to_an_agent_outside_the_team_is_refused(
    ticket, agent, logistics
):
    with pytest.raises(ActionRefused):
        ticket_transfer(ticket=ticket, team=logistics, agent=None, note="  ", actor=agent.user)
    with pytest.raises(ActionRefused, match="not in the team"):
        ticket_transfer(ticket=ticket, team=logistics, agent=agent, note="x", actor=agent.user)
    with pytest.raises(ActionRefused):
        ticket_transfer(ticket=ticket, team=ticket.team, agent=None, note="x", actor=agent.user)
    assert not AuditEntry.objects.filter(action="ticket_transferred").exists()


def test_the_sla_clocks_follow_a_team_policy_after_a_transfer(ticket, agent, logistics):
    from sla.models import BusinessCalendar, SlaPolicy
    from sla.selectors import calendar_cache_clear

    policy = SlaPolicy.objects.create(
        name="logistics fast",
        position=1,
        conditions={"team": [logistics.pk]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=7,
    )
    calendar_cache_clear()
    before = SlaClock.objects.get(subject_id=ticket.pk, milestone="first_response")
    assert before.policy_id != policy.pk

    ticket_transfer(ticket=ticket, team=logistics, agent=None, note="why", actor=agent.user)

    clock = SlaClock.objects.get(
        subject_id=ticket.pk, milestone="first_response", satisfied_at__isnull=True
    )
    assert clock.policy_id == policy.pk
    assert clock.due_at != before.due_at
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.TRANSFERRED)
    assert event.data["clocks"]  # the re-targeted clocks are on the trail


def test_the_receiving_team_sees_the_note_on_the_page_and_in_the_queue(
    client, ticket, agent, logistics
):
    receiver = make_agent(teams=[logistics])
    ticket_transfer(
        ticket=ticket, team=logistics, agent=None, note="客户要改地址", actor=agent.user
    )
    client.force_login(receiver.user)

    queue = client.get("/").content.decode()
    assert "客户要改地址" in queue
    assert "客服一组" in queue  # transferred from
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'id="transfer-note"' in page
    assert "客户要改地址" in page


def test_the_transfer_view_sends_the_agent_back_to_the_queue_when_the_ticket_left_them(
    agent_client, ticket, logistics
):
    response = agent_client.post(
        f"/tickets/{ticket.number}/transfer/", {"team": logistics.pk, "note": "物流"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert Ticket.objects.get(pk=ticket.pk).team == logistics


def test_an_agent_of_another_team_cannot_transfer_the_ticket(client, ticket, logistics):
    outsider = make_agent(teams=[logistics])
    client.force_login(outsider.user)
    response = client.post(
        f"/tickets/{ticket.number}/transfer/", {"team": logistics.pk, "note": "mine"}
    )
    assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).team.name == "客服一组"


def test_anonymous_and_customers_cannot_act(client, ticket, logistics):
    response = client.post(f"/tickets/{ticket.number}/transfer/", {"team": logistics.pk})
    assert response.status_code == 302 and "/login/" in response["Location"]
    from tests.factories import UserFactory

    client.force_login(UserFactory())  # signed in, no role
    assert client.post(f"/tickets/{ticket.number}/tags/", {"tags": "x"}).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).tags == []


def test_the_transfer_form_needs_the_csrf_token(ticket, agent, logistics):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent.user)
    response = strict.post(
        f"/tickets/{ticket.number}/transfer/", {"team": logistics.pk, "note": "x"}
    )
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).team.name == "客服一组"


def test_a_category_change_needs_a_reason_and_is_on_the_trail(ticket, agent):
    with pytest.raises(ActionRefused):
        ticket_set_category(ticket=ticket, category="logistics", actor=agent.user, reason=" ")
    ticket_set_category(ticket=ticket, category="logistics", actor=agent.user, reason="快递")
    ticket.refresh_from_db()
    assert ticket.category == "logistics"
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CATEGORY)
    assert event.data["to"] == "logistics" and event.data["reason"] == "快递"
    assert AuditEntry.objects.filter(action="ticket_category_changed").count() == 1


def test_tags_are_normalised_and_changes_recorded(agent_client, ticket, agent):
    response = agent_client.post(f"/tickets/{ticket.number}/tags/", {"tags": "VIP, 退款，vip ,  "})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tags == ["vip", "退款"]
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.TAGS)
    assert event.data["added"] == ["vip", "退款"]
    ticket_set_tags(ticket=ticket, tags=["退款"], actor=agent.user)
    assert TicketEvent.objects.filter(kind=EventKind.TAGS).last().data["removed"] == ["vip"]
    with pytest.raises(ActionRefused):
        ticket_set_tags(ticket=ticket, tags=["x" * 31], actor=agent.user)


def test_the_ticket_page_suggests_tags_used_elsewhere(agent_client, ticket, agent):
    other = intake(text="另一个问题").ticket
    ticket_set_tags(ticket=other, tags=["冷链"], actor=agent.user)
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert '<option value="冷链">' in page


def test_custom_fields_apply_per_category_and_check_their_type(ticket, agent):
    CustomField.objects.create(key="order_number", label_zh="订单号", label_en="Order number")
    CustomField.objects.create(
        key="refund",
        label_zh="退款金额",
        label_en="Refund",
        type=CustomFieldType.NUMBER,
        categories=["after_sales"],
    )
    CustomField.objects.create(
        key="store",
        label_zh="门店",
        label_en="Store",
        type=CustomFieldType.CHOICE,
        choices=["徐家汇店", "三里屯店"],
    )
    ticket_set_fields(
        ticket=ticket, values={"order_number": "SO-1234", "store": "徐家汇店"}, actor=agent.user
    )
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_number": "SO-1234", "store": "徐家汇店"}
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.FIELDS)
    assert sorted(event.data["fields"]) == ["order_number", "store"]
    # The audit names the fields, never their values.
    assert "SO-1234" not in str(AuditEntry.objects.get(action="ticket_fields_changed").data)

    with pytest.raises(ActionRefused, match="do not apply"):
        ticket_set_fields(ticket=ticket, values={"refund": "12"}, actor=agent.user)
    with pytest.raises(ActionRefused):
        ticket_set_fields(ticket=ticket, values={"store": "别的店"}, actor=agent.user)
    ticket.category = "after_sales"
    ticket.save(update_fields=["category"])
    with pytest.raises(ActionRefused, match="number"):
        ticket_set_fields(ticket=ticket, values={"refund": "十二"}, actor=agent.user)
    ticket_set_fields(ticket=ticket, values={"refund": "12.50", "store": ""}, actor=agent.user)
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_number": "SO-1234", "refund": "12.50"}


def test_a_ticket_of_another_team_is_a_styled_page_naming_its_team(client, ticket, logistics):
    outsider = make_agent(teams=[logistics])
    ticket.messages.update(body="我的手机号是13800138000，地址是秘密路1号")
    client.force_login(outsider.user)
    response = client.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="restricted-ticket"' in page
    assert "客服一组" in page
    assert "秘密路" not in page and "积分" not in page
    assert f'action="/tickets/{ticket.number}/ask/"' in page


def test_an_unknown_ticket_number_is_still_not_found(agent_client):
    assert agent_client.get("/tickets/NOPE-1/").status_code == 404


def test_asking_for_access_notifies_the_owning_team_and_is_on_the_trail(
    client, ticket, agent, logistics
):
    outsider = make_agent(teams=[logistics])
    client.force_login(outsider.user)
    response = client.post(
        f"/tickets/{ticket.number}/ask/", {"wish": "transfer", "note": "客户打来电话"}
    )
    assert response.status_code == 302
    notes = Notification.objects.filter(kind="access_asked")
    assert [n.user for n in notes] == [agent.user]
    assert ticket.number in notes[0].text and "客户打来电话" in notes[0].text
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ACCESS_ASKED)
    assert event.actor == outsider.user and event.data["wish"] == "transfer"
    assert AuditEntry.objects.filter(action="ticket_access_asked").count() == 1


def test_supervisors_still_open_every_ticket(client, ticket, logistics):
    boss = make_agent(teams=[logistics], role="supervisor")
    client.force_login(boss.user)
    assert client.get(f"/tickets/{ticket.number}/").status_code == 200


def test_the_transfer_note_is_not_shown_once_the_ticket_moves_on(client, ticket, agent, logistics):
    receiver = make_agent(teams=[logistics])
    ticket_transfer(ticket=ticket, team=logistics, agent=None, note="第一次", actor=agent.user)
    ticket.refresh_from_db()
    ticket_transfer(
        ticket=ticket,
        team=ticket.last_transfer.from_team,
        agent=None,
        note="退回",
        actor=receiver.user,
    )
    client.force_login(agent.user)
    queue = client.get("/").content.decode()
    assert "退回" in queue and "第一次" not in queue
    assert timezone.now()  # the clock is aware
