"""Carrier events and logistics anomalies: each rule, one ticket per shipment, the customer
told first, resolution on delivery, the supervisors' page and the board."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from aftersales.models import (
    AnomalyKind,
    AnomalyRule,
    Shipment,
    ShipmentAnomaly,
    ShipmentStatus,
    TicketOrder,
    TrackingEvent,
)
from aftersales.services.logistics import (
    anomaly_scan,
    business_cutoff,
    scan_candidates,
    tracking_event_apply,
)
from sla.calendar import default_calendar
from tests.aftersales.factories import make_order
from tests.factories import TeamFactory, make_agent
from tickets.models import (
    AuditEntry,
    ContactIdentity,
    Customer,
    Department,
    Direction,
    IdentityKind,
    Message,
    Ticket,
)

pytestmark = pytest.mark.django_db

# A Wednesday, 10:00 in Shanghai.
NOW = timezone.make_aware(datetime(2026, 11, 25, 10, 0))


@pytest.fixture
def logistics_team(db):
    team = TeamFactory(name="物流", department=Department.LOGISTICS)
    make_agent(teams=[team])
    return team


def shipment(
    *,
    last_event_at: datetime | None = None,
    status: str = ShipmentStatus.IN_TRANSIT,
    location: str = "杭州",
    event_status: str = "in_transit",
    fresh: bool = False,
    placed_at: datetime | None = None,
    customer: Customer | None = None,
) -> Shipment:
    """An order whose one parcel is on its way, with one carrier event at `last_event_at`."""
    items = [{"sku": "MUG-1", "name": "马克杯", "quantity": 1, "unit_price": "50.00"}]
    if fresh:
        items[0]["product_type"] = "fresh"
    order = make_order(
        customer=customer,
        placed_at=(placed_at or NOW - timedelta(days=1)).isoformat(),
        goods_amount="50.00",
        shipping_amount="0.00",
        paid_amount="50.00",
        items=items,
        shipments=[],
    )
    parcel = Shipment.objects.create(
        order=order,
        carrier="SF",
        tracking_number=f"SF{order.number}",
        status=status,
        last_event_at=last_event_at,
    )
    if last_event_at is not None:
        TrackingEvent.objects.create(
            shipment=parcel, status=event_status, location=location, at=last_event_at
        )
    return parcel


def apply(parcel: Shipment, status: str, at: datetime, location: str = "上海", **kwargs):
    return tracking_event_apply(
        carrier=parcel.carrier,
        tracking_number=parcel.tracking_number,
        status=status,
        location=location,
        at=at,
        raw={"status": status},
        now=kwargs.get("now", at),
    )


# -- events -----------------------------------------------------------------------------------


def test_an_event_moves_the_shipment_on_and_is_stored_once(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))

    first = apply(parcel, "out_for_delivery", NOW)
    again = apply(parcel, "out_for_delivery", NOW)

    parcel.refresh_from_db()
    assert first is not None and first.created and again is not None and not again.created
    assert parcel.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert parcel.last_event_at == NOW
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 2
    assert first.event.raw == {"status": "out_for_delivery"}


def test_an_older_event_arriving_late_is_kept_but_never_moves_the_shipment_back(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))
    apply(parcel, "delivered", NOW)

    late = apply(parcel, "in_transit", NOW - timedelta(hours=2))

    parcel.refresh_from_db()
    assert late is not None and late.created
    assert parcel.status == ShipmentStatus.DELIVERED
    assert parcel.last_event_at == NOW
    assert parcel.delivered_at == NOW


def test_an_unknown_tracking_number_is_no_error(logistics_team):
    result = tracking_event_apply(
        carrier="SF", tracking_number="NOPE", status="in_transit", location="", at=NOW, raw={}
    )
    assert result is None


def test_the_carrier_code_of_an_aggregator_need_not_be_the_shops(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))
    result = tracking_event_apply(
        carrier="shunfeng",
        tracking_number=parcel.tracking_number,
        status="in_transit",
        location="",
        at=NOW,
        raw={},
    )
    assert result is not None and result.shipment.pk == parcel.pk


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("delivery_failed", AnomalyKind.DELIVERY_FAILED),
        ("rejected", AnomalyKind.DELIVERY_FAILED),
        ("returned", AnomalyKind.RETURNED),
        ("lost", AnomalyKind.LOST),
    ],
)
def test_an_event_with_a_rule_opens_one_proactive_ticket(logistics_team, status, kind):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))

    result = apply(parcel, status, NOW)
    apply(parcel, status, NOW + timedelta(hours=1))  # the carrier says it again

    assert result is not None and result.anomaly is not None
    anomaly = ShipmentAnomaly.objects.get(shipment=parcel)
    assert anomaly.kind == kind
    ticket = anomaly.ticket
    assert ticket is not None
    assert ticket.customer_id == parcel.order.customer_id
    assert ticket.team == logistics_team
    assert ticket.assignee is not None
    assert parcel.order.number in ticket.subject and parcel.tracking_number in ticket.subject
    assert ticket.subject.startswith("物流异常：订单")
    assert Ticket.objects.filter(customer=parcel.order.customer).count() == 1


def test_the_customer_gets_the_apology_first_and_the_team_a_note(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))
    ContactIdentity.objects.create(
        customer=parcel.order.customer, kind=IdentityKind.EMAIL, value="li@example.com"
    )
    apply(parcel, "lost", NOW)

    ticket = ShipmentAnomaly.objects.get(shipment=parcel).ticket
    assert ticket is not None
    apology = Message.objects.get(ticket=ticket, direction=Direction.OUT)
    assert apology.is_automatic and apology.notice == "logistics_anomaly"
    assert apology.channel == "email"
    assert "很抱歉" in apology.body and parcel.tracking_number in apology.body
    assert "/status/" in apology.body
    note = Message.objects.get(ticket=ticket, direction=Direction.NOTE)
    assert parcel.order.number in note.body
    # An automatic message is no response: the team still owes the customer one.
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_the_apology_is_in_the_customers_language(logistics_team):
    customer = Customer.objects.create(name="Ann", language="en")
    ContactIdentity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="ann@x.com")
    parcel = shipment(last_event_at=NOW - timedelta(hours=5), customer=customer)
    apply(parcel, "lost", NOW)

    apology = Message.objects.get(ticket__customer=customer, direction=Direction.OUT)
    assert apology.body.startswith("Hello, we are sorry")
    assert "is reported lost" in apology.body


def test_an_apology_by_sms_found_at_night_waits_for_the_morning(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(days=6))
    ContactIdentity.objects.create(
        customer=parcel.order.customer, kind=IdentityKind.PHONE, value="+8613800138009"
    )
    night = timezone.make_aware(datetime(2026, 11, 25, 23, 30))

    anomaly_scan(now=night)

    apology = Message.objects.get(ticket__customer=parcel.order.customer, direction=Direction.OUT)
    assert apology.channel == "sms" and apology.notice == "logistics_anomaly"
    # Held in the quiet hours (21:00-08:00 in Shanghai), due at 08:00 the next morning.
    assert apology.delivery_due_at == timezone.make_aware(datetime(2026, 11, 26, 8, 0))
    assert ShipmentAnomaly.objects.filter(shipment=parcel).count() == 1


def test_an_inactive_rule_opens_nothing(logistics_team):
    AnomalyRule.objects.filter(kind=AnomalyKind.LOST).update(is_active=False)
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))
    apply(parcel, "lost", NOW)
    assert not ShipmentAnomaly.objects.exists()


def test_delivery_resolves_the_anomaly_and_leaves_the_ticket_open(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))
    apply(parcel, "delivery_failed", NOW)

    apply(parcel, "delivered", NOW + timedelta(hours=3), now=NOW + timedelta(hours=3))

    anomaly = ShipmentAnomaly.objects.get(shipment=parcel)
    assert anomaly.resolved_at == NOW + timedelta(hours=3)
    assert anomaly.ticket is not None and anomaly.ticket.is_open
    # A new failure after that is a new anomaly.
    apply(parcel, "returned", NOW + timedelta(hours=4))
    assert ShipmentAnomaly.objects.filter(shipment=parcel).count() == 2


# -- the scan ---------------------------------------------------------------------------------


def test_no_scan_counts_business_hours():
    calendar = default_calendar()
    # Wednesday 10:00 less 24 business hours (9-12, 13-18: 8 a day) is Friday 10:00 before.
    cutoff = business_cutoff(now=NOW, hours=24, calendar=calendar)
    assert timezone.localtime(cutoff) == timezone.make_aware(datetime(2026, 11, 20, 10, 0))
    assert calendar.between(cutoff, NOW) == 24 * 3600


def test_the_scan_finds_parcels_without_news(logistics_team):
    silent = shipment(last_event_at=NOW - timedelta(days=6))
    recent = shipment(last_event_at=NOW - timedelta(days=2))  # 2 days: 8 business hours

    opened = anomaly_scan(now=NOW)

    assert opened[AnomalyKind.NO_SCAN] == 1
    anomaly = ShipmentAnomaly.objects.get()
    assert anomaly.shipment == silent and anomaly.kind == AnomalyKind.NO_SCAN
    assert "144 小时无新扫描" in anomaly.ticket.subject  # type: ignore[union-attr]
    assert not ShipmentAnomaly.objects.filter(shipment=recent).exists()


def test_scanning_twice_opens_one_ticket_per_shipment(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(days=6))

    anomaly_scan(now=NOW)
    again = anomaly_scan(now=NOW + timedelta(minutes=5))

    assert again[AnomalyKind.NO_SCAN] == 0
    assert ShipmentAnomaly.objects.filter(shipment=parcel).count() == 1
    assert Ticket.objects.count() == 1
    # The proactive ticket is about the parcel's order, as a ticket the customer wrote is.
    link = TicketOrder.objects.get()
    assert (link.ticket_id, link.order_id) == (Ticket.objects.get().pk, parcel.order_id)


def test_delivered_and_returned_shipments_have_no_anomaly(logistics_team):
    shipment(
        last_event_at=NOW - timedelta(days=9), status=ShipmentStatus.DELIVERED, location="分拨中心"
    )
    shipment(last_event_at=NOW - timedelta(days=9), status=ShipmentStatus.RETURNED, fresh=True)

    assert sum(anomaly_scan(now=NOW).values()) == 0
    assert not ShipmentAnomaly.objects.exists()


def test_stuck_at_a_sorting_centre(logistics_team):
    stuck = shipment(last_event_at=NOW - timedelta(hours=13), location="杭州转运中心")
    moving = shipment(last_event_at=NOW - timedelta(hours=13), location="杭州市西湖区")
    fresh_scan = shipment(last_event_at=NOW - timedelta(hours=2), location="上海分拨中心")

    opened = anomaly_scan(now=NOW)

    assert opened[AnomalyKind.STUCK_AT_HUB] == 1
    anomaly = ShipmentAnomaly.objects.get()
    assert anomaly.shipment == stuck
    assert "在分拨中心滞留 13 小时" in anomaly.ticket.subject  # type: ignore[union-attr]
    assert not ShipmentAnomaly.objects.filter(shipment__in=[moving, fresh_scan]).exists()


def test_the_hub_words_are_the_rules(logistics_team):
    AnomalyRule.objects.filter(kind=AnomalyKind.STUCK_AT_HUB).update(keywords="集散")
    shipment(last_event_at=NOW - timedelta(hours=13), location="杭州转运中心")
    named = shipment(last_event_at=NOW - timedelta(hours=13), location="义乌集散点")

    anomaly_scan(now=NOW)

    assert list(ShipmentAnomaly.objects.values_list("shipment", flat=True)) == [named.pk]


def test_a_perishable_order_not_delivered_in_time(logistics_team):
    late = shipment(
        last_event_at=NOW - timedelta(hours=3), fresh=True, placed_at=NOW - timedelta(hours=50)
    )
    not_fresh = shipment(
        last_event_at=NOW - timedelta(hours=3), placed_at=NOW - timedelta(hours=50)
    )
    in_time = shipment(
        last_event_at=NOW - timedelta(hours=3), fresh=True, placed_at=NOW - timedelta(hours=20)
    )
    never_scanned = shipment(fresh=True, placed_at=NOW - timedelta(hours=49))

    opened = anomaly_scan(now=NOW)

    assert opened[AnomalyKind.PERISHABLE_LATE] == 2
    flagged = set(ShipmentAnomaly.objects.values_list("shipment", flat=True))
    assert flagged == {late.pk, never_scanned.pk}
    assert not_fresh.pk not in flagged and in_time.pk not in flagged


def test_the_scan_skips_shipments_with_an_open_anomaly(logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(days=6))
    apply(parcel, "delivery_failed", NOW - timedelta(days=5), now=NOW - timedelta(days=5))

    assert anomaly_scan(now=NOW)[AnomalyKind.NO_SCAN] == 0
    assert ShipmentAnomaly.objects.filter(shipment=parcel).count() == 1


def test_without_a_logistics_team_the_ticket_goes_to_the_default_team(default_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5))
    apply(parcel, "lost", NOW)
    ticket = ShipmentAnomaly.objects.get().ticket
    assert ticket is not None and ticket.team == default_team


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_scans_racing_open_one_ticket(logistics_team):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")
    parcels = [shipment(last_event_at=NOW - timedelta(days=6)) for _ in range(5)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait()
            anomaly_scan(now=NOW)
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert ShipmentAnomaly.objects.count() == len(parcels)
    assert Ticket.objects.count() == len(parcels)


# The perishable rule's plan depends on the orders' statistics, which a test's few rows do not
# give; bench/logistics.py shows it on a million shipments.
@pytest.mark.parametrize("kind", [AnomalyKind.NO_SCAN, AnomalyKind.STUCK_AT_HUB])
def test_the_scan_reads_the_partial_index_on_postgresql(logistics_team, kind):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    rule = AnomalyRule.objects.get(kind=kind)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be read whole
        sql, params = scan_candidates(rule, now=NOW)[:500].query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "aftersales_ship_moving" in plan
    assert "Seq Scan" not in plan


# -- pages ------------------------------------------------------------------------------------


def test_supervisors_edit_the_rules_and_the_change_is_audited(client, supervisor, agent):
    rule = AnomalyRule.objects.get(kind=AnomalyKind.STUCK_AT_HUB)
    client.force_login(agent.user)
    assert client.get("/aftersales/logistics/").status_code == 403
    assert client.post(f"/aftersales/logistics/rules/{rule.pk}/", {}).status_code == 403

    client.force_login(supervisor.user)
    page = client.get("/aftersales/logistics/")
    assert page.status_code == 200 and "分拨滞留" in page.content.decode()
    # Each rule's inputs belong to that rule's own form.
    assert f'form="rule-form-{rule.pk}"' in page.content.decode()
    assert page.content.decode().count(f'id="rule{rule.pk}-label"') == 1
    response = client.post(
        f"/aftersales/logistics/rules/{rule.pk}/",
        {"label": "分拨滞留", "threshold_hours": "8", "keywords": "分拨,集散", "is_active": "on"},
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.threshold_hours, rule.keywords) == (8, "分拨,集散")
    entry = AuditEntry.objects.get(action="logistics_rule_changed")
    assert entry.object_id == str(rule.pk)
    assert entry.data["threshold_hours"] == [12, 8]


def test_a_bad_rule_edit_is_refused_with_the_reason(client, supervisor):
    rule = AnomalyRule.objects.get(kind=AnomalyKind.NO_SCAN)
    client.force_login(supervisor.user)
    response = client.post(
        f"/aftersales/logistics/rules/{rule.pk}/",
        {"label": "", "threshold_hours": "-3", "keywords": ""},
    )
    assert response.status_code == 400
    rule.refresh_from_db()
    assert rule.threshold_hours == 24
    assert not AuditEntry.objects.filter(action="logistics_rule_changed").exists()


def test_the_page_lists_open_anomalies_and_the_board_counts_them(
    client, supervisor, logistics_team
):
    lost = shipment(last_event_at=NOW - timedelta(hours=5))
    apply(lost, "lost", NOW)
    done = shipment(last_event_at=NOW - timedelta(hours=5))
    apply(done, "delivery_failed", NOW)
    apply(done, "delivered", NOW + timedelta(hours=1))
    client.force_login(supervisor.user)

    page = client.get("/aftersales/logistics/").content.decode()
    counters = client.get("/board/counters/").json()

    assert lost.tracking_number in page and done.tracking_number not in page
    assert counters["logistics_anomalies"] == 1
    assert "logistics_anomalies" in client.get("/board/live/").content.decode()


def test_the_scan_runs_on_beat_and_on_the_embedded_ticker(settings, logistics_team):
    from kefu.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["logistics-scan"]
    assert entry["task"] == "aftersales.tasks.logistics_scan"
    assert entry["schedule"] == settings.LOGISTICS_SCAN_SECONDS == 300
    app.loader.import_default_modules()  # what beat and the ticker do before running it
    shipment(last_event_at=timezone.now() - timedelta(days=10))

    assert app.tasks["aftersales.tasks.logistics_scan"]() == 1
    assert ShipmentAnomaly.objects.get().kind == AnomalyKind.NO_SCAN


def test_one_shipment_that_fails_does_not_stop_the_scan(logistics_team, monkeypatch):
    from aftersales.services import logistics

    broken = shipment(last_event_at=NOW - timedelta(days=7))
    fine = shipment(last_event_at=NOW - timedelta(days=6))
    real = logistics.ticket_open_proactive

    def flaky(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["customer"] == broken.order.customer:
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(logistics, "ticket_open_proactive", flaky)
    assert anomaly_scan(now=NOW)[AnomalyKind.NO_SCAN] == 1

    assert list(ShipmentAnomaly.objects.values_list("shipment", flat=True)) == [fine.pk]
    monkeypatch.undo()
    assert anomaly_scan(now=NOW)[AnomalyKind.NO_SCAN] == 1  # the next scan takes it


def test_the_ticket_page_shows_the_parcel_and_its_latest_events(client, logistics_team):
    parcel = shipment(last_event_at=NOW - timedelta(hours=5), location="杭州转运中心")
    apply(parcel, "lost", NOW, location="杭州")
    ticket = ShipmentAnomaly.objects.get().ticket
    other = shipment(last_event_at=NOW - timedelta(hours=5))
    assert ticket is not None and ticket.assignee is not None
    client.force_login(ticket.assignee.user)  # the logistics team's agent

    page = client.get(f"/tickets/{ticket.number}/").content.decode()

    assert 'id="logistics-anomaly"' in page
    assert parcel.tracking_number in page and "杭州转运中心" in page
    assert other.tracking_number not in page
