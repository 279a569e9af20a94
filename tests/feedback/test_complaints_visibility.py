"""Who sees what: supervisors and admins review, see the complaint pages and edit the
taxonomy; agents flag, record suggestions and read the suggestion list; customers and other
users see nothing of it."""

import pytest

from tests.factories import UserFactory, make_agent
from tests.feedback.complaints_support import (
    COMPLAINT_TEXT,
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)
from tests.tickets.test_portal import code_in_outbox, request_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SUPERVISOR_PAGES = ["/complaints/", "/complaints/reviews/", "/complaints/causes/"]


def test_anonymous_visitors_are_sent_to_sign_in(client, supervisor):
    ticket = complaint_ticket()
    for page in [*SUPERVISOR_PAGES, f"/complaints/{ticket.number}/", "/complaints/suggestions/"]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/login/"), page


def test_a_user_without_a_staff_role_is_refused_everything(client, supervisor):
    ticket = complaint_ticket()
    client.force_login(UserFactory())
    for page in [*SUPERVISOR_PAGES, f"/complaints/{ticket.number}/", "/complaints/suggestions/"]:
        assert client.get(page).status_code == 403, page
    for action in ["flag", "unflag", "suggestion"]:
        assert client.post(f"/complaints/{ticket.number}/{action}/", {}).status_code == 403


def test_an_agent_is_refused_the_supervisor_pages_and_the_review(agent_client, supervisor):
    ticket = complaint_ticket()
    for page in [*SUPERVISOR_PAGES, f"/complaints/{ticket.number}/"]:
        assert agent_client.get(page).status_code == 403, page
    refused_review = agent_client.post(f"/complaints/{ticket.number}/", {"department": "x"})
    refused_cause = agent_client.post(
        "/complaints/causes/", {"code": "x", "name_zh": "x", "position": 1}
    )

    assert (refused_review.status_code, refused_cause.status_code) == (403, 403)
    assert agent_client.get("/complaints/suggestions/").status_code == 200


def test_supervisors_and_admins_see_the_complaint_pages(client, default_team, supervisor):
    ticket = complaint_ticket()
    admin = make_agent(teams=[default_team], role="admin")
    for user in (supervisor.user, admin.user):
        client.force_login(user)
        for page in [*SUPERVISOR_PAGES, f"/complaints/{ticket.number}/"]:
            assert client.get(page).status_code == 200, page
    listed = client.get("/complaints/", {"state": "open"}).content.decode()
    assert ticket.number in listed


def test_the_customer_sees_nothing_of_the_complaint_on_the_status_page(
    client, default_team, supervisor, django_capture_on_commit_callbacks
):
    ticket = complaint_ticket(COMPLAINT_TEXT, phone="13800138000")
    reviewed(ticket, by=supervisor.user)
    request_code(client, ticket.number, "13800138000", django_capture_on_commit_callbacks)
    code = code_in_outbox("+8613800138000")
    client.post("/status/verify/", {"code": code})

    page = client.get(f"/status/t/{ticket.number}/")

    assert page.status_code == 200
    html = page.content.decode()
    for hidden in [
        "complaint-card",
        "全组服务礼仪培训",
        "客服部",
        "客服态度",
        "Root cause",
        "复盘",
    ]:
        assert hidden not in html, hidden


def test_personal_numbers_are_masked_on_the_complaint_pages_and_the_card(client, supervisor):
    ticket = complaint_ticket("我要投诉，电话13812345678，态度太差了")
    reviewed(ticket, by=supervisor.user)
    client.force_login(supervisor.user)

    for page in [
        "/complaints/?state=all",
        f"/complaints/{ticket.number}/",
        f"/tickets/{ticket.number}/",
        "/complaints/reviews/",
    ]:
        html = client.get(page).content.decode()
        assert "13812345678" not in html, page
    assert "138****5678" in client.get("/complaints/?state=all").content.decode()
