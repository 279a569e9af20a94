"""The live board lists corrective actions of complaint reviews that are past due and not
done, with a tile counting them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.feedback.complaints_support import (
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_the_board_shows_overdue_corrective_actions_only(client, supervisor):
    today = timezone.localdate()
    overdue = complaint_ticket("我要投诉 一")
    due_today = complaint_ticket("我要投诉 二")
    done_late = complaint_ticket("我要投诉 三")
    # The complaints came in weeks ago; their actions were due after that.
    Ticket.objects.filter(pk__in=[overdue.pk, due_today.pk, done_late.pk]).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    reviewed(overdue, by=supervisor.user, due=today - timedelta(days=3))
    reviewed(due_today, by=supervisor.user, due=today)
    reviewed(done_late, by=supervisor.user, due=today - timedelta(days=9), status="done")
    client.force_login(supervisor.user)

    counters = client.get("/board/counters/").json()
    live = client.get("/board/live/").content.decode()

    assert counters["complaint_actions_overdue"] == 1
    assert [row["number"] for row in counters["overdue_actions"]] == [overdue.number]
    assert counters["overdue_actions"][0]["due"] == (today - timedelta(days=3)).isoformat()
    assert 'data-key="complaint_actions_overdue">1<' in live
    assert f"/complaints/{overdue.number}/" in live
    assert f"/complaints/{due_today.number}/" not in live
    assert f"/complaints/{done_late.number}/" not in live


def test_the_board_says_so_when_nothing_is_overdue(client, supervisor):
    client.force_login(supervisor.user)

    live = client.get("/board/live/").content.decode()

    assert 'data-key="complaint_actions_overdue">0<' in live
    assert "No corrective action is overdue." in live
