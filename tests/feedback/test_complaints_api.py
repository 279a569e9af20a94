"""GET /api/v1/feedback/reviews: complaint reviews for the shop's BI, for a token with the
`reports` scope only, a page at a time, filtered, personal numbers masked."""

import pytest

from feedback.models import ComplaintReview
from tests.factories import issue_token
from tests.feedback.complaints_support import (
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

URL = "/api/v1/feedback/reviews"


def get(client, key: str, **params: object):  # type: ignore[no-untyped-def]
    return client.get(URL, params, HTTP_AUTHORIZATION=f"Token {key}")


def test_reviews_are_served_a_page_at_a_time_to_a_reports_token(client, supervisor):
    for n in range(3):
        reviewed(complaint_ticket(f"我要投诉 {n}"), by=supervisor.user)
    key = issue_token("bi", scopes=["reports"])

    first = get(client, key, page_size=2)
    second = get(client, key, page_size=2, page=2)
    beyond = get(client, key, page_size=2, page=9)

    assert first.status_code == 200
    body = first.json()
    assert (body["count"], body["pages"], body["page"], body["next"]) == (3, 2, 1, 2)
    assert len(body["results"]) == 2
    assert second.json()["next"] is None and len(second.json()["results"]) == 1
    assert beyond.json()["results"] == []
    row = body["results"][0]
    assert row["root_cause"] == "agent_attitude"
    assert (row["root_cause_name_zh"], row["department"], row["action_status"]) == (
        "客服态度",
        "客服部",
        "planned",
    )
    assert row["how"] == "triage"
    assert row["is_overdue"] is False
    numbers = {r["ticket"] for r in body["results"] + second.json()["results"]}
    assert len(numbers) == 3


def test_filters_and_bad_parameters(client, supervisor):
    reviewed(complaint_ticket("我要投诉 一"), by=supervisor.user, code="logistics")
    reviewed(complaint_ticket("我要投诉 二"), by=supervisor.user)
    key = issue_token("bi", scopes=["reports"])

    logistics = get(client, key, root_cause="logistics")
    unknown = get(client, key, root_cause="weather")
    backwards = get(client, key, since="2026-10-31", until="2026-10-01")
    too_big = get(client, key, page_size=1000)

    assert [r["root_cause"] for r in logistics.json()["results"]] == ["logistics"]
    assert unknown.status_code == 400 and "root_cause" in unknown.json()
    assert backwards.status_code == 400 and "until" in backwards.json()
    assert too_big.status_code == 400 and "page_size" in too_big.json()


def test_personal_numbers_in_the_review_text_are_masked(client, supervisor):
    review = reviewed(complaint_ticket(), by=supervisor.user)
    ComplaintReview.objects.filter(pk=review.pk).update(summary="客户电话13812345678多次来电")
    key = issue_token("bi", scopes=["reports"])

    row = get(client, key).json()["results"][0]

    assert "13812345678" not in row["summary"]


def test_other_tokens_and_staff_sessions_are_refused(client, supervisor):
    reviewed(complaint_ticket(), by=supervisor.user)
    shop_app = issue_token("app")

    assert get(client, shop_app).status_code == 403
    assert client.get(URL).status_code in (401, 403)
    client.force_login(supervisor.user)
    assert client.get(URL).status_code == 403
