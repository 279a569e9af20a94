"""The agent's after-sales pages: the case list, the case page and its actions, and the
cases panel on the ticket page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.models import Case, CaseClock, OpenedBy, StepClock
from aftersales.services import case_review
from aftersales.steps import Step
from tests.aftersales.factories import make_order, open_case
from tests.aftersales.state import database_state
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import AuditEntry

pytestmark = pytest.mark.django_db


def case_on_ticket(*, amount: str = "50.00", type: str = "return_refund"):  # type: ignore[no-untyped-def]
    """A case on a ticket of the default team (the `agent` fixture's)."""
    ticket = intake(text="杯子碎了，我要退货").ticket
    now = timezone.now()
    order = make_order(
        ticket.customer,
        placed_at=(now - timedelta(hours=1)).isoformat(),
        updated_at=(now - timedelta(hours=1)).isoformat(),
        shipments=[],
    )
    return open_case(order, amount=amount, ticket=ticket, now=now, type=type)  # type: ignore[arg-type]


def test_the_agent_sees_the_cases_of_their_tickets_with_counts(agent_client, default_team):
    case = case_on_ticket()

    page = agent_client.get("/aftersales/")

    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html
    assert page.context["step_counts"][0][0] == "submitted"
    assert page.context["step_counts"][0][2] == 1


def test_an_agent_of_another_team_cannot_see_the_case(client, default_team):
    case = case_on_ticket()
    outsider = make_agent(teams=[TeamFactory(name="物流组")])
    client.force_login(outsider.user)

    listing = client.get("/aftersales/")
    page = client.get(f"/aftersales/{case.number}/")
    act = client.post(f"/aftersales/{case.number}/act/cancel/", {"note": "x"})

    assert case.number not in listing.content.decode()
    assert page.status_code == 404
    assert act.status_code == 404
    case.refresh_from_db()
    assert case.step == Step.SUBMITTED


def test_a_supervisor_sees_every_case_and_the_past_or_near_due_view(client, supervisor):
    late = case_on_ticket()
    fine = case_on_ticket()
    CaseClock.objects.filter(case=late).update(
        state=StepClock.RUNNING, due_at=timezone.now() - timedelta(minutes=5)
    )
    CaseClock.objects.filter(case=fine).update(due_at=timezone.now() + timedelta(days=3))
    near = case_on_ticket()
    CaseClock.objects.filter(case=near).update(
        state=StepClock.AT_RISK, due_at=timezone.now() + timedelta(hours=5)
    )
    client.force_login(supervisor.user)

    everything = client.get("/aftersales/").content.decode()
    due = client.get("/aftersales/?view=due&sort=due")

    assert late.number in everything and fine.number in everything
    assert due.context["due_counts"] == {"past": 1, "near": 1}
    rows = due.context["rows"]
    assert [row["case"].number for row in rows] == [late.number, near.number]
    assert [row["state"] for row in rows] == ["breached", "at_risk"]
    assert 'class="sla-breached"' in due.content.decode()


def test_the_list_filters_by_step_and_type_and_sorts_by_age_or_due(agent_client, default_team):
    older = case_on_ticket()
    newer = case_on_ticket(type="exchange", amount="0.00")
    Case.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=2))
    CaseClock.objects.filter(case=older).update(due_at=timezone.now() + timedelta(days=5))
    CaseClock.objects.filter(case=newer).update(due_at=timezone.now() + timedelta(hours=5))
    case_review(case=newer, approve=True, return_address="上海仓")

    def numbers(query: str) -> list[str]:
        return [
            row["case"].number for row in agent_client.get(f"/aftersales/?{query}").context["rows"]
        ]

    assert numbers("") == [older.number, newer.number]
    assert numbers("step=submitted") == [older.number]
    assert numbers("type=exchange") == [newer.number]
    assert numbers("step=waiting_for_return&type=return_refund") == []


def test_the_list_sorts_by_due_time(agent_client, default_team):
    first = case_on_ticket()
    second = case_on_ticket()
    CaseClock.objects.filter(case=first).update(due_at=timezone.now() + timedelta(days=5))
    CaseClock.objects.filter(case=second).update(due_at=timezone.now() + timedelta(hours=5))

    rows = agent_client.get("/aftersales/?sort=due").context["rows"]

    assert [row["case"].number for row in rows] == [second.number, first.number]


def test_the_case_page_shows_amounts_steps_due_and_only_the_next_actions(
    agent_client, default_team
):
    case = case_on_ticket()

    page = agent_client.get(f"/aftersales/{case.number}/")

    assert page.status_code == 200
    assert [action["name"] for action in page.context["actions"]] == ["review", "cancel"]
    html = page.content.decode()
    assert 'id="action-review"' in html and 'id="action-refund"' not in html
    assert page.context["due"] is not None
    assert str(page.context["refund_room"]) == "50.00"  # one mug, nothing refunded yet
    assert "50.00" in html and case.order.number in html and "MUG-1" in html
    assert str(page.context["value"]) == "50.00"  # in yuan and fen, on SQLite too
    # The submitted step's details in words, not as stored codes.
    assert "退货退款" in html and "return_refund" not in html
    assert "顺序" not in html  # an order is 订单, never the sort order
    assert '<span class="by">客户</span>' in html  # the customer opened it, not the shop's systems


def test_a_refused_action_shows_why_and_changes_nothing(agent_client, default_team):
    case = case_on_ticket()
    before = database_state()

    page = agent_client.post(
        f"/aftersales/{case.number}/act/review/", {"decision": "approve", "return_address": ""}
    )

    assert page.status_code == 400
    assert page.context["error"]
    assert page.context["error"] in page.content.decode()
    assert database_state() == before


def test_an_action_out_of_order_is_refused_not_a_server_error(agent_client, default_team):
    case = case_on_ticket()
    before = database_state()

    page = agent_client.post(
        f"/aftersales/{case.number}/act/refund/",
        {"amount": "50.00", "method": "original", "reference": "P1"},
    )
    bad_form = agent_client.post(f"/aftersales/{case.number}/act/refund/", {"amount": "abc"})

    assert page.status_code == 400
    assert "cannot go to" in page.content.decode() or page.context["error"]
    assert bad_form.status_code == 400
    assert database_state() == before


def test_an_action_moves_the_case_with_the_agent_as_actor(agent_client, agent, default_team):
    case = case_on_ticket()

    response = agent_client.post(
        f"/aftersales/{case.number}/act/review/",
        {"decision": "approve", "return_address": "上海市仓库 1 号"},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.step == Step.WAITING_FOR_RETURN
    assert case.steps.order_by("-id").first().actor == agent.user
    assert AuditEntry.objects.filter(
        action="aftersales_waiting_for_return", object_id=case.number
    ).exists()
    page = agent_client.get(f"/aftersales/{case.number}/")
    assert [a["name"] for a in page.context["actions"]] == [
        "return_tracking",
        "received",
        "inspect",
        "cancel",
    ]


def test_the_ticket_page_shows_its_cases_and_the_form_to_open_one(agent_client, default_team):
    case = case_on_ticket()
    other_order = make_order(case.ticket.customer)

    page = agent_client.get(f"/tickets/{case.ticket.number}/")

    html = page.content.decode()
    assert 'id="cases"' in html
    assert f"/aftersales/{case.number}/" in html
    assert other_order.number in html
    assert "杯子碎了，我要退货" in html  # the description is prefilled


def test_opening_a_case_from_the_ticket(agent_client, agent, default_team):
    ticket = intake(text="榴莲坏了").ticket
    now = timezone.now()
    order = make_order(
        ticket.customer,
        placed_at=(now - timedelta(hours=1)).isoformat(),
        updated_at=(now - timedelta(hours=1)).isoformat(),
        shipments=[],
    )
    durian = order.items.get(sku="DURIAN-1")

    response = agent_client.post(
        f"/aftersales/open/{ticket.number}/",
        {
            "order": order.pk,
            f"qty_{durian.pk}": "1",
            "type": "refund_only",
            "reason": "quality_problem",
            "description": "榴莲坏了",
            "amount": "",
        },
    )

    case = Case.objects.get(ticket=ticket)
    assert response.status_code == 302
    assert response["Location"] == f"/aftersales/{case.number}/"
    assert case.opened_by == OpenedBy.AGENT
    assert str(case.amount_requested) == "120.00"  # the item's value
    assert case.steps.get().actor == agent.user


def test_a_refused_opening_from_the_ticket_says_why(agent_client, default_team):
    ticket = intake(text="杯子").ticket
    order = make_order(ticket.customer)  # delivered weeks ago: the window has closed
    mug = order.items.get(sku="MUG-1")

    response = agent_client.post(
        f"/aftersales/open/{ticket.number}/",
        {"order": order.pk, f"qty_{mug.pk}": "1", "type": "exchange", "reason": "quality_problem"},
        follow=True,
    )

    assert response.status_code == 200
    assert not Case.objects.exists()
    assert any("not opened" in str(m) or "未" in str(m) for m in response.context["messages"])


def test_pages_need_an_agent(client, default_team):
    case = case_on_ticket()

    assert client.get("/aftersales/").status_code == 302
    assert client.get(f"/aftersales/{case.number}/").status_code == 302


def test_the_agent_sees_the_customers_photos_of_a_case_they_may_see(
    agent_client, client, default_team, settings, tmp_path
):
    from django.core.files.base import ContentFile

    from aftersales.models import CasePhoto

    settings.MEDIA_ROOT = tmp_path
    case = case_on_ticket()
    photo = CasePhoto(case=case, width=1, height=1, size=4, sha256="0" * 64)
    photo.file.save("photo.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=True)

    page = agent_client.get(f"/aftersales/{case.number}/").content.decode()
    served = agent_client.get(f"/aftersales/{case.number}/photos/{photo.pk}/")

    assert f"/aftersales/{case.number}/photos/{photo.pk}/" in page
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg" and served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == b"\xff\xd8\xff\xd9"
    # Another team's agent may not see the case, nor its photos.
    client.force_login(make_agent(teams=[TeamFactory(name="别的组")]).user)
    assert client.get(f"/aftersales/{case.number}/photos/{photo.pk}/").status_code == 404
