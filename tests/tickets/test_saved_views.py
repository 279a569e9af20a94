"""The queue's filters, its sort by any column (paged by keyset) and saved views: who
makes, sees, renames and deletes them, and their counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory, intake, make_agent
from tickets.filters import TicketFilters
from tickets.models import Channel, Customer, SavedView, Status, Ticket
from tickets.saved_views import saved_views_with_counts
from tickets.selectors import queue_page

pytestmark = pytest.mark.django_db


def numbers(page):  # type: ignore[no-untyped-def]
    return [ticket.number for ticket in page.tickets]


def all_pages(user, sort, size=2, filters=None):  # type: ignore[no-untyped-def]
    shown, cursor = [], ""
    for _ in range(20):
        page = queue_page(user=user, sort=sort, cursor=cursor, size=size, filters=filters)
        shown.extend(numbers(page))
        if page.next_cursor is None:
            return shown
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


@pytest.fixture
def tickets(agent, default_team):  # type: ignore[no-untyped-def]
    """Five open tickets with distinct customers, subjects and ages; two unassigned."""
    now = timezone.now()
    made = []
    for index, (name, subject) in enumerate(
        [
            ("Zhou", "b 发票"),
            ("An", "e 退款"),
            ("Chen", "a 快递"),
            ("Bai", "d 登录"),
            ("Lin", "c 积分"),
        ]
    ):
        ticket = intake(text=subject, user_id=f"u-s{index}", name=name).ticket
        Ticket.objects.filter(pk=ticket.pk).update(
            subject=subject,
            created_at=now - timedelta(hours=index),
            assignee=agent if index % 2 == 0 else None,
        )
        made.append(Ticket.objects.get(pk=ticket.pk))
    return made


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("subject", lambda t: (t.subject, t.pk), False),
        ("-subject", lambda t: (t.subject, t.pk), True),
        ("customer", lambda t: (t.customer.name, t.pk), False),
        ("-opened", lambda t: (t.created_at, t.pk), True),
        ("number", lambda t: (t.number, t.pk), False),
    ],
)
def test_every_page_by_keyset_gives_each_ticket_once_in_the_columns_order(
    agent, tickets, sort, key, reverse
):
    expected = [t.number for t in sorted(tickets, key=key, reverse=reverse)]

    assert all_pages(agent.user, sort) == expected


def test_empty_values_sort_last_both_ways_and_page_by_keyset(agent, tickets):
    assigned = sorted((t for t in tickets if t.assignee_id), key=lambda t: t.pk)
    unassigned = sorted((t for t in tickets if not t.assignee_id), key=lambda t: t.pk)

    assert all_pages(agent.user, "assignee") == [t.number for t in assigned + unassigned]
    assert all_pages(agent.user, "-assignee") == [
        t.number for t in assigned[::-1] + unassigned[::-1]
    ]


def test_a_ticket_arriving_between_pages_does_not_shift_the_next_page(agent, tickets):
    first = queue_page(user=agent.user, sort="-opened", size=2)
    newer = intake(text="newest", user_id="u-late").ticket

    second = queue_page(user=agent.user, sort="-opened", size=2, cursor=first.next_cursor or "")

    assert numbers(second) == [tickets[2].number, tickets[3].number]
    assert newer.number not in numbers(first) + numbers(second)


def test_a_malformed_cursor_means_the_first_page(agent, tickets):
    assert numbers(queue_page(user=agent.user, sort="subject", cursor="%%not-base64")) == numbers(
        queue_page(user=agent.user, sort="subject")
    )


def test_the_queue_filters_and_shows_the_customer_column(agent_client, tickets):
    Ticket.objects.filter(pk=tickets[1].pk).update(channel=Channel.SMS)

    response = agent_client.get(reverse("tickets:queue"), {"channel": "sms"})

    assert numbers(response.context["page"]) == [tickets[1].number]
    assert '<td class="customer">An</td>' in response.content.decode()


def test_the_queue_shows_open_tickets_unless_a_status_is_chosen(agent_client, tickets):
    Ticket.objects.filter(pk=tickets[0].pk).update(status=Status.CLOSED)

    default = agent_client.get(reverse("tickets:queue"))
    closed = agent_client.get(reverse("tickets:queue"), {"status": "closed"})

    assert tickets[0].number not in numbers(default.context["page"])
    assert numbers(closed.context["page"]) == [tickets[0].number]


def test_the_sort_headers_link_each_column_and_turn_the_sorted_one_around(agent_client, tickets):
    response = agent_client.get(reverse("tickets:queue"), {"sort": "subject", "channel": "app"})

    hrefs = [header["href"] for header in response.context["headers"]]
    active = [header["href"] for header in response.context["headers"] if header["active"]]
    assert len(hrefs) == 10
    assert active == ["?view=team&channel=app&sort=-subject"]
    assert "?view=team&channel=app&sort=customer" in hrefs
    assert numbers(response.context["page"]) == [
        t.number for t in sorted(tickets, key=lambda t: t.subject)
    ]


def test_the_rows_fragment_keeps_the_sort_and_filters(agent_client, tickets):
    response = agent_client.get(reverse("tickets:queue_rows"), {"sort": "-subject"})

    assert numbers(response.context["page"]) == [
        t.number for t in sorted(tickets, key=lambda t: t.subject, reverse=True)
    ]


# --- saved views --------------------------------------------------------------------------


def test_an_agent_saves_a_view_and_sees_it_with_its_count(agent_client, agent, tickets):
    response = agent_client.post(
        reverse("tickets:saved_view_create"),
        {"name": " 未分配 ", "assignee": "none", "sort": "-subject", "team": ""},
    )

    view = SavedView.objects.get()
    assert (view.name, view.owner, view.team, view.filters, view.sort) == (
        "未分配",
        agent.user,
        None,
        {"assignee": "none"},
        "-subject",
    )
    assert response["Location"] == f"{reverse('tickets:queue')}?saved={view.pk}"
    page = agent_client.get(response["Location"])
    assert numbers(page.context["page"]) == [tickets[1].number, tickets[3].number]
    assert [(item.view.pk, item.count) for item in page.context["saved_views"]] == [(view.pk, 2)]


def test_an_agent_cannot_share_a_view_with_a_team(agent_client, default_team):
    response = agent_client.post(
        reverse("tickets:saved_view_create"), {"name": "shared", "team": default_team.pk}
    )

    assert response.status_code == 403
    assert not SavedView.objects.exists()


def test_a_supervisor_shares_a_view_with_a_team_whose_agents_see_it(
    client, supervisor, agent, default_team, tickets
):
    outsider = make_agent(teams=[TeamFactory(name="物流组")])
    client.force_login(supervisor.user)
    client.post(
        reverse("tickets:saved_view_create"),
        {"name": "SMS", "channel": "sms", "team": default_team.pk},
    )
    Ticket.objects.filter(pk=tickets[4].pk).update(channel=Channel.SMS)
    view = SavedView.objects.get()

    seen = saved_views_with_counts(agent.user)

    assert [(item.view.pk, item.count, item.may_edit) for item in seen] == [(view.pk, 1, False)]
    assert saved_views_with_counts(outsider.user) == []


def test_views_of_others_are_neither_seen_nor_changed(client, agent, default_team):
    colleague = make_agent(teams=[default_team])
    view = SavedView.objects.create(name="mine", owner=colleague.user, filters={})
    client.force_login(agent.user)

    assert saved_views_with_counts(agent.user) == []
    rename = client.post(reverse("tickets:saved_view_rename", args=[view.pk]), {"name": "x"})
    delete = client.post(reverse("tickets:saved_view_delete", args=[view.pk]))

    assert (rename.status_code, delete.status_code) == (404, 404)
    assert SavedView.objects.get().name == "mine"


def test_an_agent_may_not_rename_or_delete_a_shared_view(client, agent, supervisor, default_team):
    view = SavedView.objects.create(name="team", owner=supervisor.user, team=default_team)
    client.force_login(agent.user)

    rename = client.post(reverse("tickets:saved_view_rename", args=[view.pk]), {"name": "x"})
    delete = client.post(reverse("tickets:saved_view_delete", args=[view.pk]))

    assert (rename.status_code, delete.status_code) == (403, 403)
    assert SavedView.objects.get().name == "team"


def test_the_owner_renames_and_deletes_their_view(agent_client, agent):
    view = SavedView.objects.create(name="old", owner=agent.user, filters={})

    agent_client.post(reverse("tickets:saved_view_rename", args=[view.pk]), {"name": "新名字"})
    assert SavedView.objects.get().name == "新名字"
    agent_client.post(reverse("tickets:saved_view_rename", args=[view.pk]), {"name": "  "})
    assert SavedView.objects.get().name == "新名字"

    agent_client.post(reverse("tickets:saved_view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_customers_and_anonymous_visitors_are_refused(client, agent):
    view = SavedView.objects.create(name="v", owner=agent.user, filters={})
    urls = [
        reverse("tickets:saved_view_create"),
        reverse("tickets:saved_view_rename", args=[view.pk]),
        reverse("tickets:saved_view_delete", args=[view.pk]),
    ]
    for url in urls:
        assert client.post(url, {"name": "x"}).status_code == 302
    client.force_login(UserFactory())
    for url in urls:
        assert client.post(url, {"name": "x"}).status_code == 403
    assert SavedView.objects.get().name == "v"


def test_a_saved_view_naming_a_deleted_team_still_opens(agent_client, agent, tickets):
    view = SavedView.objects.create(
        name="gone", owner=agent.user, filters={"team": "99999", "channel": "app"}
    )

    response = agent_client.get(reverse("tickets:queue"), {"saved": view.pk})

    assert response.status_code == 200
    assert len(response.context["page"].tickets) == len(tickets)


def test_the_filtered_queue_costs_a_fixed_number_of_queries(
    agent_client, agent, tickets, django_assert_max_num_queries
):
    for index in range(3):
        SavedView.objects.create(name=f"v{index}", owner=agent.user, filters={"channel": "app"})
    for index in range(10):
        intake(text="more", user_id=f"u-more{index}")

    # A fixed number: the header (bell, presence, search, saved views) adds a few of its own.
    with django_assert_max_num_queries(33):
        agent_client.get(reverse("tickets:queue"), {"sort": "customer", "channel": "app"})


def test_a_customer_name_with_a_phone_number_is_masked_in_the_queue(agent_client, tickets):
    Customer.objects.filter(pk=tickets[0].customer_id).update(name="王 13912345678")

    page = agent_client.get(reverse("tickets:queue")).content.decode()

    assert "139****5678" in page
    assert "13912345678" not in page


def test_filters_apply_to_the_counts_only_within_the_users_teams(agent, tickets):
    other = TeamFactory(name="其他")
    Ticket.objects.filter(pk=tickets[0].pk).update(team=other, assignee=None)
    SavedView.objects.create(name="all", owner=agent.user, filters={})

    [item] = saved_views_with_counts(agent.user)

    assert item.count == len(tickets) - 1
    assert queue_page(user=agent.user, filters=TicketFilters(team=other.pk)).tickets == []
