"""The review form (root cause, department, corrective action with owner, due date and
status), its validation, the root-cause taxonomy, and reviews by cause per month."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from feedback.models import ComplaintReview, RootCause
from tests.factories import UserFactory
from tests.feedback.complaints_support import (
    cause,
    complaint_ticket,
    english,  # noqa: F401
    review_post,
    reviewed,
)
from tickets.models import AuditEntry, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_supervisor_records_the_review_on_the_complaint_page(client, supervisor):
    ticket = complaint_ticket()
    client.force_login(supervisor.user)

    page = client.get(f"/complaints/{ticket.number}/")
    saved = client.post(f"/complaints/{ticket.number}/", review_post(ticket, supervisor.user))

    assert page.status_code == 200
    assert "id_root_cause" in page.content.decode()
    assert saved.status_code == 302
    review = ComplaintReview.objects.get(complaint__ticket=ticket)
    assert (review.root_cause.code, review.department, review.action_status) == (
        "agent_attitude",
        "客服部",
        "planned",
    )
    assert (review.action_owner_id, review.reviewer_id) == (supervisor.user_id, supervisor.user_id)
    entry = AuditEntry.objects.get(action="complaint_review_recorded")
    assert entry.actor_id == supervisor.user_id
    assert entry.data["root_cause"] == "agent_attitude"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"department": " "}, "This field is required."),
        ({"action": ""}, "This field is required."),
        ({"root_cause": ""}, "This field is required."),
        ({"action_due": "not a date"}, "Enter a valid date."),
        ({"action_status": "someday"}, "Select a valid choice. someday is not one of"),
        (
            {"action_due": "2000-01-01"},
            "The due date cannot be before the complaint was received.",
        ),
    ],
)
def test_a_review_with_a_missing_or_wrong_field_is_refused_and_nothing_is_saved(
    client, supervisor, changes, message
):
    ticket = complaint_ticket()
    client.force_login(supervisor.user)

    response = client.post(
        f"/complaints/{ticket.number}/", review_post(ticket, supervisor.user, **changes)
    )

    assert response.status_code == 400
    field = next(iter(changes))
    assert any(message in error for error in response.context["form"].errors[field])
    assert not ComplaintReview.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="complaint_review").exists()


def test_a_retired_cause_and_an_owner_who_is_not_staff_are_refused(client, supervisor):
    ticket = complaint_ticket()
    retired = RootCause.objects.create(code="old", name_zh="旧原因", name_en="Old", is_active=False)
    outsider = UserFactory()
    client.force_login(supervisor.user)

    retired_response = client.post(
        f"/complaints/{ticket.number}/",
        review_post(ticket, supervisor.user, root_cause=retired.pk),
    )
    outsider_response = client.post(
        f"/complaints/{ticket.number}/",
        review_post(ticket, supervisor.user, action_owner=outsider.pk),
    )

    assert retired_response.status_code == 400
    assert outsider_response.status_code == 400
    assert not ComplaintReview.objects.exists()


def test_editing_the_review_moves_the_action_to_done_and_back(client, supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)
    client.force_login(supervisor.user)

    client.post(
        f"/complaints/{ticket.number}/",
        review_post(ticket, supervisor.user, action_status="done"),
    )
    done = ComplaintReview.objects.get()
    client.post(
        f"/complaints/{ticket.number}/",
        review_post(ticket, supervisor.user, action_status="in_progress"),
    )
    again = ComplaintReview.objects.get()

    assert done.action_status == "done" and done.action_done_at is not None
    assert again.action_status == "in_progress" and again.action_done_at is None
    assert list(
        AuditEntry.objects.filter(action__startswith="complaint_review")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["complaint_review_recorded", "complaint_review_changed", "complaint_review_changed"]


def test_a_ticket_that_is_no_complaint_has_no_complaint_page(client, supervisor):
    from tests.factories import intake

    ticket = intake(text="快递还没到").ticket
    client.force_login(supervisor.user)

    assert client.get(f"/complaints/{ticket.number}/").status_code == 404


def test_supervisors_add_edit_and_retire_root_causes(client, supervisor):
    client.force_login(supervisor.user)

    added = client.post(
        "/complaints/causes/",
        {"code": "packaging", "name_zh": "包装", "name_en": "Packaging", "position": 85},
    )
    packaging = RootCause.objects.get(code="packaging")
    edited = client.post(
        f"/complaints/causes/{packaging.pk}/",
        {"code": "packaging", "name_zh": "包装破损", "name_en": "Packaging", "position": 85},
    )
    clash = client.post(
        "/complaints/causes/",
        {"code": "logistics", "name_zh": "重复", "name_en": "Again", "position": 1},
    )

    assert (added.status_code, edited.status_code) == (302, 302)
    packaging.refresh_from_db()
    # Not ticked: the edit retired it.
    assert (packaging.name_zh, packaging.is_active) == ("包装破损", False)
    assert clash.status_code == 400
    assert "Another root cause has the code" in clash.content.decode()
    assert RootCause.objects.filter(code="logistics").count() == 1
    assert list(
        AuditEntry.objects.filter(object_type="root_cause")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["root_cause_added", "root_cause_changed"]
    # A retired cause is no longer offered on a new review.
    ticket = complaint_ticket()
    offered = client.get(f"/complaints/{ticket.number}/").context["form"].fields["root_cause"]
    codes = set(offered.queryset.values_list("code", flat=True))
    assert "packaging" not in codes
    assert "agent_attitude" in codes


def test_the_stock_taxonomy_is_seeded():
    assert list(RootCause.objects.values_list("code", flat=True)) == [
        "product_quality",
        "logistics",
        "agent_attitude",
        "agent_skill",
        "policy",
        "system_fault",
        "supplier",
        "other",
    ]


def received_on(ticket: Ticket, year: int, month: int, day: int) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=datetime(year, month, day, 10, tzinfo=ZoneInfo(settings.TIME_ZONE))
    )


def test_reviews_are_counted_by_cause_and_month_received_with_filters(client, supervisor):
    rows = [
        ("agent_attitude", (2026, 9, 3), "客服部"),
        ("agent_attitude", (2026, 10, 8), "客服部"),
        ("agent_attitude", (2026, 10, 20), "客服部"),
        ("logistics", (2026, 10, 21), "物流部"),
        ("logistics", (2026, 11, 2), "物流部"),
    ]
    for n, (code, (year, month, day), department) in enumerate(rows):
        ticket = complaint_ticket(f"我要投诉 {n}")
        received_on(ticket, year, month, day)
        reviewed(
            Ticket.objects.get(pk=ticket.pk),
            by=supervisor.user,
            code=code,
            department=department,
            due=timezone.localdate() + timedelta(days=3),
        )
    client.force_login(supervisor.user)

    everything = client.get("/complaints/reviews/")
    october = client.get("/complaints/reviews/", {"since": "2026-10-01", "until": "2026-10-31"})
    logistics = client.get("/complaints/reviews/", {"root_cause": cause("logistics").pk})
    by_department = client.get("/complaints/reviews/", {"department": "物流部"})
    backwards = client.get("/complaints/reviews/", {"since": "2026-10-31", "until": "2026-10-01"})

    table = everything.context["table"]
    assert [m.isoformat() for m in table.months] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    assert [(row.cause.code, row.counts, row.total) for row in table.rows] == [
        ("logistics", [0, 1, 1], 2),
        ("agent_attitude", [1, 2, 0], 3),
    ]
    assert table.totals == [1, 3, 1]
    assert [(r.cause.code, r.counts) for r in october.context["table"].rows] == [
        ("logistics", [1]),
        ("agent_attitude", [2]),
    ]
    assert [(r.cause.code, r.total) for r in logistics.context["table"].rows] == [("logistics", 2)]
    assert len(by_department.context["page"].object_list) == 2
    assert backwards.status_code == 400
    assert "The period ends before it starts." in backwards.content.decode()
