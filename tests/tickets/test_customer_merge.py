"""Supervisors merge duplicate customers (audited, reversible) and see merge suggestions."""

import pytest
from django.conf import settings

from tests.factories import intake, make_agent
from tickets.models import AuditEntry, ContactIdentity, Customer, CustomerMerge, EventKind, Ticket
from tickets.selectors import merge_suggestions, order_numbers_in, phones_in
from tickets.services.customers import MergeRefused, customer_merge, customer_merge_undo

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_records(default_team):  # type: ignore[no-untyped-def]
    by_mail = intake(email="li.na@example.com", text="发票开错了", name="李娜", channel="email")
    by_app = intake(user_id="u-77", phone="13800138000", text="退款什么时候到", name="")
    return by_mail.ticket.customer, by_app.ticket.customer


def test_a_merge_moves_identities_and_tickets_and_an_undo_moves_exactly_them_back(
    two_records, supervisor
):
    source, target = two_records
    merge = customer_merge(source=source, target=target, actor=supervisor.user, reason="同一人")

    assert set(target.identities.values_list("kind", flat=True)) == {"email", "app_user", "phone"}
    assert Ticket.objects.filter(customer=target).count() == 2
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into == target
    assert target.name == "李娜"  # the kept record had no name; it takes the merged one's
    # A message from the merged address now lands on the kept customer.
    later = intake(email="LI.NA@example.com", text="还有一个问题", channel="email")
    assert later.ticket.customer == target

    customer_merge_undo(merge=merge, actor=supervisor.user)

    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into is None
    assert list(source.identities.values_list("value", flat=True)) == ["li.na@example.com"]
    assert source.tickets.count() == 1
    # What arrived after the merge stays where it arrived.
    assert target.tickets.count() == 2
    assert target.name == ""
    merge.refresh_from_db()
    assert merge.undone_by == supervisor.user and merge.undone_at is not None


def test_merges_and_undos_are_audited_and_on_the_ticket_trail(two_records, supervisor):
    source, target = two_records
    moved_ticket = source.tickets.get()
    merge = customer_merge(source=source, target=target, actor=supervisor.user)
    customer_merge_undo(merge=merge, actor=supervisor.user)

    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "actor"))
    assert actions == [
        ("customer_merged", supervisor.user.pk),
        ("customer_merge_undone", supervisor.user.pk),
    ]
    kinds = list(moved_ticket.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.CUSTOMER_MERGED, EventKind.CUSTOMER_MERGE_UNDONE]


def test_wrong_merges_are_refused(two_records, supervisor):
    source, target = two_records
    with pytest.raises(MergeRefused):
        customer_merge(source=source, target=source, actor=supervisor.user)
    merge = customer_merge(source=source, target=target, actor=supervisor.user)
    with pytest.raises(MergeRefused):
        customer_merge(source=source, target=target, actor=supervisor.user)
    customer_merge_undo(merge=merge, actor=supervisor.user)
    with pytest.raises(MergeRefused):
        customer_merge_undo(merge=merge, actor=supervisor.user)


def test_an_undo_waits_for_a_later_merge_of_the_kept_customer(two_records, supervisor):
    source, target = two_records
    third = intake(user_id="u-99", text="hi").ticket.customer
    first = customer_merge(source=source, target=target, actor=supervisor.user)
    customer_merge(source=target, target=third, actor=supervisor.user)

    with pytest.raises(MergeRefused):
        customer_merge_undo(merge=first, actor=supervisor.user)


def test_text_scanners_find_phones_and_order_numbers():
    signature = "谢谢\n--\n王芳 | 手机 138 0013 8000 | Tel: +86 21 6123 4567"
    assert phones_in(signature) == {"+8613800138000", "+862161234567"}
    assert order_numbers_in("订单号：DD20261101-88 还没发货；order #A123456 too") == {
        "DD20261101-88",
        "A123456",
    }
    assert order_numbers_in("订单很多 order now") == set()


def test_suggestions_name_the_phone_in_a_signature_and_a_shared_order(default_team):
    by_phone = intake(phone="13800138000", text="你好").ticket.customer
    by_order = intake(user_id="u-5", text="订单号 DD2026110188 没收到").ticket.customer
    unrelated = intake(user_id="u-6", text="hello").ticket.customer
    mail = intake(
        email="wang@example.com",
        channel="email",
        text="请尽快处理订单号 DD2026110188。\n--\n王芳 手机 138-0013-8000",
    ).ticket.customer

    found = {s.customer.pk: s for s in merge_suggestions(customer=mail)}

    assert set(found) == {by_phone.pk, by_order.pk}
    assert "138****8000" in found[by_phone.pk].reason  # masked in the reason
    assert "DD2026110188" in found[by_order.pk].reason
    assert found[by_order.pk].open_tickets == 1
    assert unrelated.pk not in found
    # A record already merged away is not suggested again.
    Customer.objects.filter(pk=by_phone.pk).update(merged_into=unrelated)
    assert {s.customer.pk for s in merge_suggestions(customer=mail)} == {by_order.pk}


def test_supervisors_merge_from_the_ticket_page_and_undo_on_the_merges_page(
    client, two_records, supervisor
):
    source, target = two_records
    ticket = target.tickets.get()
    client.force_login(supervisor.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(f"/tickets/{ticket.number}/")
    assert b"Possible duplicates" in page.content

    merged = client.post(
        f"/customers/{target.pk}/merge/",
        {"source": source.pk, "next": f"/tickets/{ticket.number}/"},
    )

    assert merged.status_code == 302 and merged["Location"] == f"/tickets/{ticket.number}/"
    assert ContactIdentity.objects.filter(customer=source).count() == 0
    merge = CustomerMerge.objects.get()
    listing = client.get("/customers/merges/")
    assert listing.status_code == 200 and b"Undo" in listing.content

    client.post(f"/customers/merges/{merge.pk}/undo/")

    assert ContactIdentity.objects.filter(customer=source).count() == 1


def test_merge_by_ticket_numbers(client, two_records, supervisor):
    source, target = two_records
    client.force_login(supervisor.user)

    client.post(
        "/customers/merges/",
        {"into_ticket": target.tickets.get().number, "ticket": source.tickets.get().number},
    )

    assert Customer.objects.get(pk=source.pk).merged_into_id == target.pk


def test_agents_cannot_merge_or_see_the_merge_pages(client, two_records, default_team):
    source, target = two_records
    agent = make_agent(teams=[default_team])
    client.force_login(agent.user)
    ticket = target.tickets.get()

    assert b'id="duplicates"' not in client.get(f"/tickets/{ticket.number}/").content
    assert client.post(f"/customers/{target.pk}/merge/", {"source": source.pk}).status_code == 403
    assert client.get("/customers/merges/").status_code == 403
    assert CustomerMerge.objects.count() == 0


def test_the_kept_customer_takes_the_adviser_channel_and_language_it_lacks_until_an_undo(
    two_records, supervisor
):
    source, target = two_records
    adviser = make_agent(teams=[])
    Customer.objects.filter(pk=source.pk).update(
        adviser=adviser, preferred_channel="email", language="en"
    )
    Customer.objects.filter(pk=target.pk).update(preferred_channel="sms", language="")
    source.refresh_from_db()
    target.refresh_from_db()

    merge = customer_merge(source=source, target=target, actor=supervisor.user)

    target.refresh_from_db()
    assert target.adviser == adviser
    assert target.preferred_channel == "sms"  # its own choice stands
    assert target.language == "en"

    customer_merge_undo(merge=merge, actor=supervisor.user)

    target.refresh_from_db()
    assert (target.adviser, target.preferred_channel, target.language) == (None, "sms", "")
