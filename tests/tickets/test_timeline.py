"""The customer timeline on the ticket page: only what the viewer may see, paged, with
personal numbers masked until revealed (audited)."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TeamFactory, intake, make_agent
from tickets import events
from tickets.models import (
    Attachment,
    AuditEntry,
    Channel,
    Customer,
    Direction,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.selectors import (
    MESSAGE_HEAD_CHARS,
    MESSAGE_PIECE_CHARS,
    TIMELINE_LIVE_MAX,
    TIMELINE_PAGE_SIZE,
    customer_tickets_for,
    customer_timeline,
)
from tickets.services.workflow import ticket_add_note

pytestmark = pytest.mark.django_db

SECRET = "退货地址在朝阳区幸福路8号"
NOTE = "内部：这个客户上次骗过退款"
FAR_FUTURE = "2999-01-01T00:00:00+00:00_9_999999999"


@pytest.fixture
def two_teams_one_customer(default_team):  # type: ignore[no-untyped-def]
    """A customer with a ticket of another team (a message and an internal note) and a
    ticket of the default team."""
    other_team = TeamFactory(name="售后二组")
    hidden = intake(user_id="u1", text=SECRET).ticket
    Ticket.objects.filter(pk=hidden.pk).update(team=other_team, assignee=None, status=Status.CLOSED)
    ticket_add_note(ticket=hidden, author=make_agent(teams=[other_team]), body=NOTE)
    mine = intake(user_id="u1", text="这次的草莓坏了").ticket
    assert mine.pk != hidden.pk and mine.team_id == default_team.pk
    return mine, Ticket.objects.get(pk=hidden.pk)


def _numbers_of_messages(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-message="(\d+)"', html)]


def test_the_other_tickets_list_is_the_same_read_alone_or_from_the_timelines_rows(
    agent, two_teams_one_customer
):
    mine, hidden = two_teams_one_customer
    Ticket.objects.filter(pk=mine.pk).update(status=Status.RESOLVED)
    third = intake(user_id="u1", text="还有一个问题").ticket  # a new ticket: mine is resolved
    customer = Customer.objects.get(pk=mine.customer_id)

    def listed(rows):  # type: ignore[no-untyped-def]
        return [
            (o.ticket.number, o.ticket.status, o.ticket.subject, str(o.ticket.team), o.may_open)
            for o in rows
        ]

    alone = customer_tickets_for(customer=customer, viewer=agent.user, exclude=mine)
    customer_timeline(customer=customer, viewer=agent.user, include_internal=True)
    with CaptureQueriesContext(connection) as queries:
        shared = customer_tickets_for(customer=customer, viewer=agent.user, exclude=mine)
        open_only = customer_tickets_for(customer=customer, viewer=agent.user, only_open=True)

    assert len(queries) == 0
    assert listed(shared) == listed(alone)
    assert [o.ticket.number for o in shared] == [third.number, hidden.number]
    assert [o.may_open for o in shared] == [True, False]
    assert str(shared[1].ticket.team) == "售后二组"
    assert [o.ticket.number for o in open_only] == [third.number]


def test_another_teams_ticket_of_the_customer_is_one_line_on_the_ticket_page(
    agent_client, two_teams_one_customer
):
    mine, hidden = two_teams_one_customer

    page = agent_client.get(f"/tickets/{mine.number}/").content.decode()
    live = agent_client.get(f"/tickets/{mine.number}/live/", HTTP_HX_REQUEST="true")
    earlier = agent_client.get(f"/tickets/{mine.number}/timeline/", {"before": FAR_FUTURE})

    for html in (page, live.content.decode(), earlier.content.decode()):
        assert "这次的草莓坏了" in html
        assert SECRET not in html
        assert NOTE not in html
        assert f'data-restricted-ticket="{hidden.number}"' in html
        assert "售后二组" in html
        assert not any(
            pk in _numbers_of_messages(html) for pk in hidden.messages.values_list("pk", flat=True)
        )
    assert f'href="/tickets/{hidden.number}/"' not in page


def test_the_messages_of_a_ticket_the_agent_may_not_open_cannot_be_fetched_or_revealed(
    agent_client, two_teams_one_customer
):
    _mine, hidden = two_teams_one_customer
    message = hidden.messages.get(direction=Direction.IN)

    assert agent_client.get(f"/messages/{message.pk}/").status_code == 404
    assert agent_client.post(f"/messages/{message.pk}/reveal/").status_code == 404
    assert AuditEntry.objects.count() == 0


def test_a_supervisor_sees_every_ticket_of_the_customer_with_its_notes(
    client, supervisor, two_teams_one_customer
):
    mine, hidden = two_teams_one_customer
    client.force_login(supervisor.user)

    html = client.get(f"/tickets/{mine.number}/").content.decode()

    assert SECRET in html and NOTE in html
    assert f'data-restricted-ticket="{hidden.number}"' not in html


def test_an_agent_assigned_a_ticket_of_another_team_sees_it_in_the_timeline(
    client, agent, two_teams_one_customer
):
    mine, hidden = two_teams_one_customer
    outsider = make_agent(teams=[hidden.team])
    Ticket.objects.filter(pk=mine.pk).update(assignee=outsider)
    client.force_login(outsider.user)

    html = client.get(f"/tickets/{mine.number}/").content.decode()

    assert SECRET in html and NOTE in html and "这次的草莓坏了" in html


def _long_timeline(ticket: Ticket) -> tuple[list[int], Message]:
    start = timezone.now() - timedelta(days=2)
    rows = [
        Message(
            ticket=ticket,
            direction=Direction.IN if index % 2 else Direction.OUT,
            channel=Channel.APP,
            body=f"第{index}条消息",
            created_at=start + timedelta(minutes=index),
        )
        for index in range(500)
    ]
    Message.objects.bulk_create(rows)
    huge = Message.objects.create(
        ticket=ticket,
        direction=Direction.IN,
        channel=Channel.APP,
        body="开头" + "很长的投诉。" * 170_000 + "结尾13812345678",
        created_at=start + timedelta(minutes=250, seconds=30),
    )
    return list(ticket.messages.order_by("created_at", "pk").values_list("pk", flat=True)), huge


def test_a_ticket_with_500_messages_and_one_of_a_megabyte_renders_a_bounded_page(
    agent_client, django_assert_max_num_queries
):
    ticket = intake(user_id="u1", text="最早的一条").ticket
    every_message, huge = _long_timeline(ticket)
    assert len(huge.body.encode()) > 1_000_000

    # A fixed number, whatever the length of the timeline (the "act on the ticket" card reads
    # teams, agents, custom fields, tags in use, links, merges and the messages to split;
    # the surveys card reads the ticket's surveys and call-backs, and the customer's ratings,
    # call-backs and attempts are three timeline sources; the complaint card reads the
    # ticket's customer suggestion).
    with django_assert_max_num_queries(57):
        page = agent_client.get(f"/tickets/{ticket.number}/")

    html = page.content.decode()
    assert len(page.content) < 150_000
    shown = _numbers_of_messages(html)
    assert len(shown) <= TIMELINE_PAGE_SIZE
    assert shown == every_message[-len(shown) :]

    # "Earlier messages" pages back to the first message, each page bounded too.
    seen = list(shown)
    pages = [html]
    while match := re.search(r'hx-get="(/tickets/[^"]+/timeline/\?before=[^"]+)"', html):
        response = agent_client.get(match.group(1).replace("&amp;", "&"))
        assert response.status_code == 200
        assert len(response.content) < 150_000
        html = response.content.decode()
        seen = _numbers_of_messages(html) + seen
        pages.append(html)
        assert len(pages) < 30
    assert seen == every_message
    everything = "".join(pages)
    assert f'hx-get="/messages/{huge.pk}/?field=body&amp;piece=1"' in everything
    assert "结尾" not in everything


def _more_of_the_same_customer(ticket: Ticket, count: int, *, first: int = 0) -> None:
    """`count` more tickets of the ticket's customer on its team, each with a message, an
    outbound reply with an attachment and a trail entry."""
    now = timezone.now()
    for index in range(first, first + count):
        other = Ticket.objects.create(
            number=f"{ticket.number}-{index}",
            customer=ticket.customer,
            team=ticket.team,
            subject=f"第{index}单",
            created_at=now,
        )
        _question, reply = (
            Message.objects.create(
                ticket=other, direction=direction, channel=Channel.APP, body=body, created_at=now
            )
            for direction, body in ((Direction.IN, f"问题{index}"), (Direction.OUT, f"回复{index}"))
        )
        Attachment.objects.create(
            message=reply,
            filename=f"回执{index}.pdf",
            content_type="application/pdf",
            size=1024,
            md5="0" * 32,
            sha256="0" * 64,
        )
        TicketEvent.objects.create(
            ticket=other, kind=EventKind.STATUS, data={"to": "pending"}, created_at=now
        )


def test_the_ticket_pages_queries_do_not_grow_with_the_customers_tickets(
    agent_client, agent, django_assert_num_queries
):
    ticket = intake(user_id="u1", text="最早的一条").ticket
    Ticket.objects.filter(pk=ticket.pk).update(team=agent.teams.first())
    ticket.refresh_from_db()
    _more_of_the_same_customer(ticket, 2)
    agent_client.get(f"/tickets/{ticket.number}/")  # the session's first reads
    with CaptureQueriesContext(connection) as few:
        small = agent_client.get(f"/tickets/{ticket.number}/")

    _more_of_the_same_customer(ticket, 30, first=2)
    with django_assert_num_queries(len(few.captured_queries)):
        large = agent_client.get(f"/tickets/{ticket.number}/")

    html = large.content.decode()
    assert small.status_code == large.status_code == 200
    # The newest tickets' replies with their attachments are on the timeline, each with its
    # ticket's number, and the other tickets are listed.
    assert html.count("回执") >= 5
    assert f">{ticket.number}-31</a>" in html
    assert f">{ticket.number}-12</a>" in html


def _live_url(html: str) -> str:
    match = re.search(r'<div id="timeline-latest"[^>]*hx-get="([^"]+)"', html)
    assert match is not None
    return match.group(1).replace("&amp;", "&")


def test_a_live_refresh_keeps_the_earlier_pages_the_agent_opened(agent_client, agent):
    ticket = intake(user_id="u1", text="最早的一条").ticket
    start = timezone.now() - timedelta(days=1)
    Message.objects.bulk_create(
        Message(
            ticket=ticket,
            direction=Direction.IN,
            channel=Channel.APP,
            body=f"第{index}条",
            created_at=start + timedelta(minutes=index),
        )
        for index in range(120)
    )
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    latest = _numbers_of_messages(page)
    earlier_link = re.search(r'hx-get="(/tickets/[^"]+/timeline/\?before=[^"]+)"', page)
    assert earlier_link is not None
    earlier = _numbers_of_messages(
        agent_client.get(earlier_link.group(1).replace("&amp;", "&")).content.decode()
    )

    note = ticket_add_note(ticket=ticket, author=agent, body="刚写的内部记录")
    live = agent_client.get(_live_url(page), HTTP_HX_REQUEST="true").content.decode()

    # Everything the page first showed, and what came since: nothing of the earlier page
    # (it stays where the agent opened it, above) and no second "earlier" link.
    assert latest and earlier
    assert _numbers_of_messages(live) == [*latest, note.pk]
    assert "刚写的内部记录" in live
    assert not set(earlier) & set(_numbers_of_messages(live))
    assert "timeline-earlier" not in live


def test_a_live_refresh_from_long_ago_brings_the_newest_entries_and_a_link_to_the_rest(
    agent_client,
):
    ticket = intake(user_id="u1", text="最早的一条").ticket
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    start = timezone.now() + timedelta(minutes=1)
    Message.objects.bulk_create(
        Message(
            ticket=ticket,
            direction=Direction.IN,
            channel=Channel.APP,
            body=f"第{index}条",
            created_at=start + timedelta(minutes=index),
        )
        for index in range(TIMELINE_LIVE_MAX + 10)
    )

    live = agent_client.get(_live_url(page), HTTP_HX_REQUEST="true").content.decode()

    newest = list(ticket.messages.order_by("created_at", "pk").values_list("pk", flat=True))
    assert _numbers_of_messages(live) == newest[-TIMELINE_LIVE_MAX:]
    assert "timeline-earlier" in live


def test_a_long_message_shows_its_beginning_and_the_rest_a_bounded_piece_at_a_time(agent_client):
    ticket = intake(user_id="u1", text="开头").ticket
    # Numbers all the way through, some of them across where the pieces are cut.
    body = "开头" + "很长的投诉，电话13812345678，身份证11010519491231002X。" * 25_000 + "结尾"
    huge = Message.objects.create(
        ticket=ticket,
        direction=Direction.IN,
        channel=Channel.APP,
        body=body,
        created_at=timezone.now(),
    )

    page = agent_client.get(f"/tickets/{ticket.number}/")

    html = page.content.decode()
    assert len(page.content) < 50_000
    assert "结尾" not in html
    head = re.search(rf'id="message-{huge.pk}">.*?<div class="body">(.*?)<span', html, re.S)
    assert head is not None
    shown = [head.group(1)]
    pieces = 0
    while match := re.search(r'hx-get="(/messages/\d+/\?field=body&amp;piece=\d+)"', html):
        response = agent_client.get(match.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert len(response.content) < 100_000
        html = response.content.decode()
        shown.append(html.split('<span class="show-more">')[0].rstrip("\n"))
        pieces += 1
        assert pieces < 100
    text = "".join(shown).replace("<br>", "\n")
    assert pieces == -(-(len(body) - MESSAGE_HEAD_CHARS) // MESSAGE_PIECE_CHARS)
    assert text.endswith("结尾")
    assert text.count("138****5678") == 25_000
    assert text.count("1101**********002X") == 25_000
    assert "13812345678" not in text and "11010519491231002X" not in text
    assert len(text) == len(body)
    assert agent_client.get(f"/messages/{huge.pk}/", {"piece": pieces + 1}).status_code == 404
    assert agent_client.get(f"/messages/{huge.pk}/", {"piece": "-1"}).status_code == 400
    assert agent_client.get(f"/messages/{huge.pk}/", {"field": "x", "piece": 1}).status_code == 400


def test_numbers_customers_write_are_masked_on_the_ticket_page_and_stored_as_written(
    agent_client,
):
    text = "我的电话13812345678，身份证11010519491231002X，退款卡6222 0212 3456 7894"
    result = intake(user_id="u1", text=text)

    page = agent_client.get(f"/tickets/{result.ticket.number}/").content.decode()
    queue = agent_client.get("/queue/rows/").content.decode()

    assert "138****5678" in page
    assert "1101**********002X" in page
    assert "6222 **** **** 7894" in page
    for html in (page, queue):
        assert "13812345678" not in html
        assert "11010519491231002X" not in html
        assert "6222 0212 3456 7894" not in html
    assert Message.objects.get(ticket=result.ticket, direction=Direction.IN).body == text
    assert Ticket.objects.get(pk=result.ticket.pk).subject == text


def test_a_supervisor_also_sees_the_numbers_masked_until_revealing_them(client, supervisor):
    result = intake(user_id="u1", text="电话13812345678")
    client.force_login(supervisor.user)

    html = client.get(f"/tickets/{result.ticket.number}/").content.decode()

    assert "138****5678" in html and "13812345678" not in html


def test_revealing_a_messages_numbers_is_audited_on_the_log_and_the_trail(agent_client, agent):
    text = "电话13812345678"
    result = intake(user_id="u1", text=text)
    message = Message.objects.get(ticket=result.ticket, direction=Direction.IN)
    page = agent_client.get(f"/tickets/{result.ticket.number}/").content.decode()
    assert f'hx-post="/messages/{message.pk}/reveal/"' in page

    fragment = agent_client.post(f"/messages/{message.pk}/reveal/", HTTP_HX_REQUEST="true")
    data = agent_client.post(f"/messages/{message.pk}/reveal/").json()

    assert fragment.status_code == 200
    assert "13812345678" in fragment.content.decode()
    assert data == {"id": message.pk, "subject": "", "body": text, "quoted_text": ""}
    audits = AuditEntry.objects.filter(action="pii_revealed", object_type="message")
    assert [(a.actor, a.object_id) for a in audits] == [(agent.user, str(message.pk))] * 2
    trail = TicketEvent.objects.filter(ticket=result.ticket, kind=EventKind.PII_REVEALED)
    assert [event.data for event in trail] == [{"message": message.pk}] * 2


def test_a_reveal_needs_a_post(agent_client):
    message = Message.objects.get(ticket=intake(user_id="u1", text="电话13812345678").ticket)

    assert agent_client.get(f"/messages/{message.pk}/reveal/").status_code == 405
    assert AuditEntry.objects.count() == 0


def test_an_earlier_page_without_a_cursor_is_a_400(agent_client):
    ticket = intake(user_id="u1").ticket

    assert agent_client.get(f"/tickets/{ticket.number}/timeline/").status_code == 400
    assert (
        agent_client.get(f"/tickets/{ticket.number}/timeline/", {"before": "x"}).status_code == 200
    )


def test_live_message_events_carry_no_personal_number():
    result = intake(user_id="u1", text="我的电话13812345678，卡号6222021234567894")
    message = Message.objects.get(ticket=result.ticket, direction=Direction.IN)

    payloads = [
        events.message_added(result.ticket, message),
        events.ticket_created(result.ticket),
        events.ticket_updated(result.ticket),
    ]

    for payload in payloads:
        text = json.dumps(payload, ensure_ascii=False)
        assert "13812345678" not in text and "6222021234567894" not in text
    assert payloads[0]["ticket"]["subject"] == "我的电话138****5678，卡号6222********7894"


def test_the_api_masks_numbers_in_a_tickets_subject(agent_client):
    ticket = intake(user_id="u1", text="电话13812345678").ticket

    detail = agent_client.get(f"/api/v1/tickets/{ticket.number}/").json()
    queue = agent_client.get("/api/v1/tickets/").json()

    assert detail["subject"] == "电话138****5678"
    assert [row["subject"] for row in queue["results"]] == ["电话138****5678"]


def test_a_screen_pop_names_no_subject_of_another_teams_ticket(default_team):
    from tests.tickets.test_calls import known_customer, ring
    from tickets.services.calls import call_event

    customer = known_customer()
    theirs = customer.tickets.get()
    Ticket.objects.filter(pk=theirs.pk).update(team=TeamFactory())
    ours = intake(phone="+8613800138000", channel=Channel.SMS, text="电话13912345678").ticket
    call = call_event(event=ring("pop-1", team=default_team)).call

    pop = events.call_ringing(call, open_tickets=[ours, Ticket.objects.get(pk=theirs.pk)])

    assert [(t["number"], t["subject"]) for t in pop["open_tickets"]] == [
        (ours.number, "电话139****5678"),
        (theirs.number, ""),
    ]


def test_a_call_of_another_team_is_not_on_the_timeline(agent_client, default_team):
    from tests.tickets.test_calls import known_customer, ring
    from tickets.services.calls import call_event

    ticket = known_customer().tickets.get()
    ours = call_event(event=ring("tl-1", team=default_team)).call
    theirs = call_event(event=ring("tl-2", team=TeamFactory())).call

    html = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert f'data-call="{ours.pk}"' in html
    assert f'data-call="{theirs.pk}"' not in html


def test_the_call_page_names_no_subject_of_another_teams_ticket(agent_client, default_team):
    from tests.tickets.test_calls import known_customer, ring
    from tickets.services.calls import call_event

    theirs = known_customer().tickets.get()
    Ticket.objects.filter(pk=theirs.pk).update(team=TeamFactory(name="售后二组"), assignee=None)
    ours = intake(phone="+8613800138000", channel=Channel.SMS, text="电话13912345678").ticket
    call = call_event(event=ring("page-1", team=default_team)).call

    html = agent_client.get(f"/calls/{call.pk}/").content.decode()

    assert theirs.number in html and "售后二组" in html
    assert theirs.subject not in html
    assert f'href="/tickets/{theirs.number}/"' not in html
    assert f'href="/tickets/{ours.number}/"' in html
    assert "电话139****5678" in html and "13912345678" not in html


@pytest.mark.parametrize(
    ("language", "status_label", "step_label", "notice_labels"),
    [
        ("en", "Resolved", "Refunded", ["Case: completed · SMS", "CSAT · SMS"]),
        ("zh-hans", "已解决", "已退款", ["售后单：已完成 · 短信", "满意度（CSAT） · 短信"]),
    ],
)
def test_status_changes_case_steps_and_notices_read_in_the_viewers_language(
    agent_client, default_team, language, status_label, step_label, notice_labels
):
    ticket = intake(user_id="u1", text="退款什么时候到").ticket
    # As recorded: the status's code, a case step's label in the recorder's language.
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.STATUS,
        data={"from": "open", "to": "resolved"},
        created_at=timezone.now(),
    )
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.AFTERSALES,
        data={"case": "AS202612010001", "step": "refunded", "to": "AS202612010001 已退款"},
        created_at=timezone.now(),
    )
    # Notices as their senders record them: labelled in the customer's language.
    for event, to in (
        ("case.completed", "售后单：已完成 · 短信"),
        ("survey:csat", "满意度 · 短信"),
    ):
        TicketEvent.objects.create(
            ticket=ticket,
            kind=EventKind.NOTICE,
            data={"event": event, "channel": "sms", "to": to},
            created_at=timezone.now(),
        )

    page = agent_client.get(
        f"/tickets/{ticket.number}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert f"→ {status_label}" in page
    assert f"→ AS202612010001 {step_label}" in page
    assert "→ resolved" not in page
    for label in notice_labels:
        assert f"→ {label}" in page


def test_what_customers_and_files_bring_is_shown_as_text_on_the_timeline(agent_client):
    """Every part of a message and trail entry is escaped: the subject and text, an
    attachment's name and type, a defect, a delivery error, an event's note and reason."""
    bad = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ticket = intake(user_id="u1", text=f"正文{bad}").ticket
    now = timezone.now()
    reply = Message.objects.create(
        ticket=ticket,
        direction=Direction.OUT,
        channel=Channel.APP,
        subject=f"主题{bad}",
        body="回复",
        delivery_status="failed",
        delivery_error=f"错误{bad}",
        defects=[f"缺陷{bad}"],
        created_at=now,
    )
    Attachment.objects.create(
        message=reply,
        filename=f"文件{bad}.txt",
        content_type=f"text/plain{bad}",
        size=10,
        md5="0" * 32,
        sha256="0" * 64,
        refused_reason=f"拒绝{bad}",
    )
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.STATUS,
        data={"to": f"去{bad}", "note": f"备注{bad}", "reason": f"原因{bad}"},
        created_at=now,
    )

    html = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    for shown in (
        "正文",
        "主题",
        "错误",
        "缺陷",
        "文件",
        "text/plain",
        "拒绝",
        "去",
        "备注",
        "原因",
    ):
        assert f"{shown}{escaped}" in html, shown
