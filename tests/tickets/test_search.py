"""Find anything: each kind of identifier, Chinese and English words, what each role may
find, filters, paging, and the search documents kept in step with what is written."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aftersales.models import TicketOrder
from tests.aftersales.factories import make_order
from tests.factories import TeamFactory, UserFactory, intake, make_agent
from tickets.filters import TicketFilters
from tickets.models import Channel, ContactIdentity, Customer, Status, Ticket, TicketSearchDocument
from tickets.search import document_words, query_parse, search
from tickets.services.privacy import customer_erase
from tickets.services.search_index import search_document_add
from tickets.services.workflow import ticket_add_note, ticket_reply

pytestmark = pytest.mark.django_db


def numbers(results):  # type: ignore[no-untyped-def]
    return [ticket.number for ticket in results.tickets]


# --- reading a query ----------------------------------------------------------------------


def test_a_phone_number_in_any_format_is_read_as_the_same_e164_number():
    for typed in ("138 0013 8000", "+86 138-0013-8000", "13800138000", "008613800138000"):
        assert query_parse(typed).phone == "+8613800138000", typed


def test_an_email_address_is_read_lower_cased():
    parsed = query_parse("  Wang.Li@Example.COM ")

    assert (parsed.email, parsed.phone, parsed.words) == (
        "wang.li@example.com",
        "",
        ("wang.li@example.com",),
    )


def test_chinese_is_segmented_into_words_and_english_lower_cased_and_stemmed():
    assert query_parse("快递没到").words == ("快递", "没", "到")
    assert query_parse("Refunds PARCEL").words == ("refund", "parcel")


def test_a_document_holds_each_word_once_and_the_identifiers_written_in_the_text():
    words = document_words(
        "订单号 SO-2026-001 的快递，快递没到。电话 138 0013 8000，wang@example.com"
    )

    assert words.count("快递") == 1
    assert {"so2026001", "13800138000", "wang@example.com"} <= set(words)


# --- what it finds ------------------------------------------------------------------------


def test_the_exact_ticket_number_jumps_to_the_ticket(agent_client):
    ticket = intake(text="发票怎么开").ticket

    response = agent_client.get(reverse("tickets:search"), {"q": f" {ticket.number} "})

    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.number])


def test_a_phone_typed_in_another_format_finds_the_customer_and_their_tickets(agent):
    found = intake(text="草莓坏了", phone="+8613800138000", name="王小明").ticket
    intake(text="草莓坏了", phone="+8613900139000")

    results = search(user=agent.user, raw="138 0013 8000")

    assert numbers(results) == [found.number]
    assert [(hit.customer.pk, hit.matched, hit.contact) for hit in results.customers] == [
        (found.customer_id, "phone", "+86138****8000")
    ]


def test_a_phone_written_in_a_message_finds_that_ticket(agent):
    ticket = intake(text="请打我另一个电话 139-0013-9000 谢谢", user_id="u-phone").ticket

    results = search(user=agent.user, raw="+86 13900139000")

    assert numbers(results) == [ticket.number]


def test_an_email_finds_the_customer_by_its_normalised_identity(agent):
    ticket = intake(text="hello", email="Wang.Li@Example.com").ticket

    results = search(user=agent.user, raw="WANG.LI@example.com")

    assert numbers(results) == [ticket.number]
    assert [hit.matched for hit in results.customers] == ["email"]
    assert results.customers[0].contact == "w***@example.com"


def test_an_order_number_finds_the_linked_ticket_and_the_customer_through_after_sales(agent):
    owner = Customer.objects.create(name="李四")
    order = make_order(owner, number="SO2026123456")
    other = intake(text="Where is my parcel?", user_id="u-order").ticket
    TicketOrder.objects.create(ticket=other, order=order, linked_at=timezone.now(), how="agent")

    results = search(user=agent.user, raw="so2026123456")

    assert numbers(results) == [other.number]
    # The order's owner has no ticket this agent may open: an agent never learns of them.
    assert results.customers == []


def test_a_supervisor_finds_the_orders_customer(supervisor):
    owner = Customer.objects.create(name="李四")
    make_order(owner, number="SO2026654321")

    results = search(user=supervisor.user, raw="SO2026654321")

    assert [(hit.customer.pk, hit.matched) for hit in results.customers] == [(owner.pk, "order")]


def test_an_order_number_written_in_a_message_finds_the_ticket(agent):
    ticket = intake(text="订单号 DD-2026-7788 还没发货", user_id="u-dd").ticket
    bare = intake(text="my order DD-2026-7788 again", user_id="u-dd2").ticket
    intake(text="订单号 DD-2026-9999 还没发货", user_id="u-dd3")

    results = search(user=agent.user, raw="DD-2026-7788")

    assert set(numbers(results)) == {ticket.number, bare.number}


def test_chinese_words_find_subjects_and_messages(agent):
    strawberry = intake(text="草莓发霉了，孩子吃了拉肚子", user_id="u-zh1").ticket
    intake(text="快递三天没到", user_id="u-zh2")

    assert numbers(search(user=agent.user, raw="发霉 草莓")) == [strawberry.number]
    assert numbers(search(user=agent.user, raw="榴莲")) == []


def test_english_words_find_messages_whatever_their_form(agent):
    blender = intake(text="The blender arrived broken, I want a refund", user_id="u-en1").ticket
    intake(text="My order has not arrived", user_id="u-en2")

    assert numbers(search(user=agent.user, raw="Refunds BROKEN")) == [blender.number]


def test_replies_and_notes_are_found_as_soon_as_they_are_written(agent):
    ticket = intake(text="你好", user_id="u-reply").ticket
    ticket_reply(ticket=ticket, author=agent, body="已为您安排顺丰补发")
    ticket_add_note(ticket=ticket, author=agent, body="warehouse mixup confirmed")

    assert numbers(search(user=agent.user, raw="顺丰 补发")) == [ticket.number]
    assert numbers(search(user=agent.user, raw="mixup")) == [ticket.number]


def test_a_customer_is_found_by_name(agent):
    ticket = intake(text="hi", user_id="u-name", name="欧阳娜娜").ticket

    results = search(user=agent.user, raw="欧阳")

    assert [(hit.customer.pk, hit.matched, hit.latest_ticket) for hit in results.customers] == [
        (ticket.customer_id, "name", ticket.number)
    ]


# --- who finds what -----------------------------------------------------------------------


def test_an_agent_of_another_team_finds_nothing_of_this_teams_tickets(default_team):
    ticket = intake(text="草莓发霉了", phone="+8613800138000", name="王小明").ticket
    outsider = make_agent(teams=[TeamFactory(name="物流组")])

    for raw in ("草莓", "138 0013 8000", ticket.number, "王小明"):
        results = search(user=outsider.user, raw=raw)
        assert (results.tickets, results.customers, results.jump_to) == ([], [], None), raw


def test_the_search_page_shows_an_outsider_no_trace_of_the_ticket(client, default_team):
    ticket = intake(text="草莓发霉了", phone="+8613800138000", name="王小明").ticket
    outsider = make_agent(teams=[TeamFactory(name="物流组")])
    client.force_login(outsider.user)

    response = client.get(reverse("tickets:search"), {"q": ticket.number})

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["results"].tickets == []
    assert reverse("tickets:ticket", args=[ticket.number]) not in page
    assert "王小明" not in page


def test_customers_and_anonymous_visitors_are_refused(client, default_team):
    intake(text="草莓发霉了")
    url = reverse("tickets:search")

    anonymous = client.get(url, {"q": "草莓"})
    client.force_login(UserFactory())
    customer = client.get(url, {"q": "草莓"})

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert customer.status_code == 403


def test_the_results_mask_personal_numbers_as_the_queue_does(agent_client):
    intake(text="请回电 13912345678", user_id="u-mask", name="王五")
    Ticket.objects.update(subject="请回电 13912345678")

    page = agent_client.get(reverse("tickets:search"), {"q": "回电"}).content.decode()

    assert "139****5678" in page
    assert "13912345678" not in page


def test_the_header_of_every_staff_page_has_the_search_box(agent_client):
    page = agent_client.get(reverse("tickets:queue")).content.decode()

    assert f'action="{reverse("tickets:search")}"' in page


# --- filters and paging -------------------------------------------------------------------


def test_filters_narrow_the_results(agent, default_team):
    sms = intake(text="退款 进度", user_id="u-f1", channel=Channel.SMS).ticket
    app = intake(text="退款 进度", user_id="u-f2").ticket
    closed = intake(text="退款 进度", user_id="u-f3").ticket
    Ticket.objects.update(category="")
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED, tags=["vip", "退款"])
    Ticket.objects.filter(pk=app.pk).update(
        category="after_sales", created_at=timezone.now() - timedelta(days=10)
    )

    def found(**filters):  # type: ignore[no-untyped-def]
        return set(numbers(search(user=agent.user, raw="退款", filters=TicketFilters(**filters))))

    assert found() == {sms.number, app.number, closed.number}
    assert found(channel=Channel.SMS) == {sms.number}
    assert found(status=Status.CLOSED) == {closed.number}
    assert found(status="open") == {sms.number, app.number}
    assert found(category="after_sales") == {app.number}
    assert found(tag="退款") == {closed.number}
    assert found(tag="vi") == set()
    assert found(team=default_team.pk) == {sms.number, app.number, closed.number}
    Ticket.objects.filter(pk=sms.pk).update(assignee=None)
    Ticket.objects.filter(pk__in=[app.pk, closed.pk]).update(assignee=agent)
    assert found(assignee="none") == {sms.number}
    assert found(assignee=str(agent.pk)) == {app.number, closed.number}
    today = timezone.localdate()
    assert found(opened_from=today) == {sms.number, closed.number}
    assert found(opened_to=today - timedelta(days=5)) == {app.number}


def test_the_filters_come_from_the_query_string(agent_client):
    sms = intake(text="退款", user_id="u-q1", channel=Channel.SMS).ticket
    intake(text="退款", user_id="u-q2")

    response = agent_client.get(reverse("tickets:search"), {"q": "退款", "channel": "sms"})

    assert numbers(response.context["results"]) == [sms.number]


def test_results_are_paged_newest_first_by_keyset(agent):
    made = [intake(text=f"包裹 破损 {index}", user_id=f"u-p{index}").ticket for index in range(7)]
    now = timezone.now()
    for index, ticket in enumerate(made):
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - timedelta(minutes=index))

    first = search(user=agent.user, raw="破损", size=3)
    second = search(user=agent.user, raw="破损", size=3, cursor=first.next_cursor or "")
    third = search(user=agent.user, raw="破损", size=3, cursor=second.next_cursor or "")

    assert numbers(first) + numbers(second) + numbers(third) == [t.number for t in made]
    assert third.next_cursor is None


# --- the documents ------------------------------------------------------------------------


def test_erasing_a_customer_removes_their_tickets_from_search(supervisor):
    ticket = intake(text="草莓发霉了", phone="+8613800138000").ticket
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)

    customer_erase(customer=ticket.customer, actor=supervisor.user, via="test")

    assert not TicketSearchDocument.objects.filter(ticket=ticket).exists()
    assert numbers(search(user=supervisor.user, raw="草莓")) == []


def test_two_messages_on_one_ticket_keep_both_their_words(agent):
    ticket = intake(text="第一条 苹果", user_id="u-two").ticket
    intake(text="second banana", user_id="u-two")

    document = TicketSearchDocument.objects.get(ticket=ticket).document
    assert " 苹果 " in document
    assert " banana " in document
    assert numbers(search(user=agent.user, raw="苹果 banana")) == [ticket.number]


def test_the_rebuild_command_makes_the_documents_again_with_a_progress_line(agent, capsys):
    ticket = intake(text="榴莲 礼盒", user_id="u-rebuild").ticket
    TicketSearchDocument.objects.all().delete()
    assert numbers(search(user=agent.user, raw="榴莲")) == []

    call_command("search_rebuild", batch=1)

    assert numbers(search(user=agent.user, raw="榴莲")) == [ticket.number]
    assert "search documents rebuilt: 1 tickets" in capsys.readouterr().out


def test_a_message_written_after_a_rebuild_adds_to_the_document(agent):
    ticket = intake(text="A", user_id="u-add").ticket
    search_document_add(ticket_id=ticket.pk, texts=["保温杯 漏水"])

    assert numbers(search(user=agent.user, raw="漏水")) == [ticket.number]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL path")
def test_on_postgresql_words_are_matched_by_full_text_search_over_the_vector(agent):
    ticket = intake(text="草莓发霉了", user_id="u-pg").ticket
    document = TicketSearchDocument.objects.get(ticket=ticket)

    # The database makes the vector from the words and the ticket's facets, and copies
    # the opening time.
    assert "'草莓'" in str(document.vector)
    assert f"'team {ticket.team_id}'" in str(document.vector)
    assert "'is open'" in str(document.vector)
    assert document.created_at == ticket.created_at
    assert numbers(search(user=agent.user, raw="草莓")) == [ticket.number]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'tickets_search_vector'")
        assert "gin (vector)" in cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL path")
def test_on_postgresql_a_document_follows_its_ticket_to_another_team(agent):
    ticket = intake(text="榴莲坏了", user_id="u-move").ticket
    other_team = TeamFactory()
    other = make_agent(teams=[other_team])

    # Written with update(), as a bulk action might: the database moves the document too.
    Ticket.objects.filter(pk=ticket.pk).update(team=other_team, assignee=None)

    assert numbers(search(user=agent.user, raw="榴莲")) == []
    assert numbers(search(user=other.user, raw="榴莲")) == [ticket.number]
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    assert numbers(search(user=agent.user, raw="榴莲")) == [ticket.number]


def test_a_tag_with_a_quote_in_it_is_a_filter_like_any_other(agent):
    ticket = intake(text="退款 进度", user_id="u-quote").ticket
    Ticket.objects.filter(pk=ticket.pk).update(tags=["it's vip", "a\\b"])

    def found(tag):  # type: ignore[no-untyped-def]
        return numbers(search(user=agent.user, raw="退款", filters=TicketFilters(tag=tag)))

    assert found("it's vip") == [ticket.number]
    assert found("a\\b") == [ticket.number]
    assert found("it") == []


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite path")
def test_on_sqlite_words_are_matched_in_the_stored_document(agent):
    ticket = intake(text="草莓发霉了", user_id="u-lite").ticket
    assert TicketSearchDocument.objects.get(ticket=ticket).vector is None

    TicketSearchDocument.objects.filter(ticket=ticket).update(document=" 榴莲 ")

    assert numbers(search(user=agent.user, raw="榴莲")) == [ticket.number]
    assert numbers(search(user=agent.user, raw="草莓")) == []


def test_a_whole_word_is_needed_not_part_of_one(agent):
    intake(text="refundable deposit", user_id="u-whole")

    assert numbers(search(user=agent.user, raw="fundabl")) == []


def test_identities_stay_the_source_for_customers_merged_away(supervisor):
    ticket = intake(text="hi", phone="+8613800138000").ticket
    other = Customer.objects.create(name="old record", merged_into=ticket.customer)
    ContactIdentity.objects.create(customer=other, kind="email", value="old@example.com")

    results = search(user=supervisor.user, raw="old@example.com")

    assert results.customers == []
