"""The customer's after-sales on the status page: orders and cases of the proven customer
only, applying with photos (re-encoded, without EXIF), the guards' errors on the form with
nothing written, the progress of a case, the return's tracking number and cancelling."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from aftersales.models import Case, CasePhoto, Order, OrderSource
from aftersales.services import case_review, order_upsert
from aftersales.steps import Step
from tests.aftersales.factories import open_case, snapshot
from tests.aftersales.state import database_state
from tests.factories import intake
from tickets.models import Customer, Message, Ticket
from tickets.portal import SESSION_KEY

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def customer(default_team) -> Customer:  # type: ignore[no-untyped-def]
    return intake(phone=PHONE, text="你好").ticket.customer


def recent_order(customer: Customer, *, delivered_days_ago: float = 1, **overrides: Any) -> Order:
    """Two mugs (2 × 50) and a durian box (fresh, 1 × 120), paid 215, delivered
    `delivered_days_ago` days before now."""
    now = timezone.now()
    delivered = now - timedelta(days=delivered_days_ago)
    values = snapshot(
        placed_at=(delivered - timedelta(days=2)).isoformat(),
        updated_at=now.isoformat(),
        shipments=[
            {
                "carrier": "SF",
                "tracking_number": f"SF{uuid.uuid4().int % 10**10:010d}",
                "status": "delivered",
                "delivered_at": delivered.isoformat(),
                "events": [
                    {
                        "status": "揽收",
                        "location": "杭州",
                        "at": (delivered - timedelta(days=1)).isoformat(),
                    },
                    {"status": "已签收", "location": "上海", "at": delivered.isoformat()},
                ],
            }
        ],
        **overrides,
    )
    return order_upsert(snapshot=values, customer=customer, source=OrderSource.PUSH, now=now)


def sign_in(client, customer: Customer) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()


def jpeg_with_gps(size: tuple[int, int] = (3000, 1500)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the GPS is really there
    return data


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def form(order: Order, **overrides: Any) -> dict[str, Any]:
    mug = order.items.get(sku="MUG-1")
    values: dict[str, Any] = {
        f"qty_{mug.pk}": 1,
        "type": "return_refund",
        "reason": "",
        "description": "杯子有裂纹",
        "amount": "",
        "token": str(uuid.uuid4()),
    }
    from aftersales.models import Reason

    values["reason"] = Reason.objects.get(code="quality_problem").pk
    values.update(overrides)
    return values


def test_a_customer_applies_with_a_photo_and_the_stored_photo_has_no_exif(client, customer):
    order = recent_order(customer)
    sign_in(client, customer)
    photo = SimpleUploadedFile("IMG_0001.JPG", jpeg_with_gps(), content_type="image/jpeg")

    response = client.post(
        f"/status/orders/{order.number}/apply/", {**form(order), "photos": [photo]}
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/status/cases/{case.number}/"
    assert case.opened_by == "customer"
    assert case.amount_requested == Decimal("50.00")  # the item's value, left empty
    assert case.ticket is not None and case.ticket.customer_id == customer.pk
    assert case.ticket.channel == "web"
    body = Message.objects.filter(ticket=case.ticket).latest("pk").body
    assert order.number in body and "马克杯" in body
    stored = CasePhoto.objects.get(case=case)
    assert (stored.width, stored.height) == (2048, 1024)
    assert "IMG_0001" not in stored.file.name and stored.file.name.endswith(".jpg")
    with stored.file.open("rb") as handle:
        data = handle.read()
    kept = Image.open(io.BytesIO(data))
    assert kept.format == "JPEG"
    assert dict(kept.getexif()) == {}
    assert b"PhoneMaker" not in data and b"Exif" not in data
    assert stored.size == len(data)


def test_a_png_and_a_heic_photo_are_taken_as_jpeg(client, customer):
    pillow_heif = pytest.importorskip("pillow_heif")
    heic = io.BytesIO()
    try:
        pillow_heif.from_pillow(Image.new("RGB", (64, 48), (0, 128, 0))).save(heic, format="HEIF")
    except Exception as error:  # an installation without a HEIC encoder
        pytest.skip(f"pillow-heif cannot write HEIC here: {error}")
    order = recent_order(customer)
    sign_in(client, customer)

    client.post(
        f"/status/orders/{order.number}/apply/",
        {
            **form(order),
            "photos": [
                SimpleUploadedFile("a.png", png(), content_type="image/png"),
                SimpleUploadedFile("b.heic", heic.getvalue(), content_type="image/heic"),
            ],
        },
    )

    photos = list(CasePhoto.objects.order_by("pk"))
    assert [(p.width, p.height) for p in photos] == [(40, 30), (64, 48)]
    for photo in photos:
        with photo.file.open("rb") as handle:
            assert Image.open(handle).format == "JPEG"


def test_an_html_file_named_jpg_is_refused_and_nothing_is_written(client, customer):
    order = recent_order(customer)
    sign_in(client, customer)
    before = database_state()
    tickets = Ticket.objects.count()
    fake = SimpleUploadedFile(
        "photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg"
    )

    response = client.post(
        f"/status/orders/{order.number}/apply/", {**form(order), "photos": [fake]}
    )

    assert response.status_code == 400
    assert "photo.jpg 不是可读取的照片" in response.content.decode()
    assert database_state() == before
    assert Ticket.objects.count() == tickets
    assert CasePhoto.objects.count() == 0


def test_seven_photos_are_refused(client, customer):
    order = recent_order(customer)
    sign_in(client, customer)
    photos = [SimpleUploadedFile(f"{n}.png", png(), content_type="image/png") for n in range(7)]

    response = client.post(
        f"/status/orders/{order.number}/apply/", {**form(order), "photos": photos}
    )

    assert response.status_code == 400
    assert "最多上传 6 张照片" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_photo_over_the_size_limit_is_refused(client, customer, settings):
    settings.AFTERSALES_PHOTO_MAX_BYTES = 1000
    order = recent_order(customer)
    sign_in(client, customer)
    big = SimpleUploadedFile("big.jpg", jpeg_with_gps((400, 400)), content_type="image/jpeg")

    response = client.post(
        f"/status/orders/{order.number}/apply/", {**form(order), "photos": [big]}
    )

    assert response.status_code == 400
    assert "big.jpg" in response.content.decode()
    assert Case.objects.count() == 0


def test_asking_for_more_than_was_bought_is_refused_on_the_form(client, customer):
    order = recent_order(customer)
    mug = order.items.get(sku="MUG-1")
    sign_in(client, customer)
    before = database_state()

    response = client.post(
        f"/status/orders/{order.number}/apply/", form(order, **{f"qty_{mug.pk}": 3})
    )

    assert response.status_code == 400
    assert "最多可申请 2 件" in response.content.decode()
    assert database_state() == before


def test_asking_for_more_money_than_the_items_are_worth_is_refused_with_nothing_written(
    client, customer
):
    order = recent_order(customer)
    sign_in(client, customer)
    before = database_state()
    tickets, messages = Ticket.objects.count(), Message.objects.count()

    response = client.post(f"/status/orders/{order.number}/apply/", form(order, amount="80.00"))

    assert response.status_code == 400
    assert "最多可退 50.00 CNY" in response.content.decode()
    assert database_state() == before
    assert (Ticket.objects.count(), Message.objects.count()) == (tickets, messages)


def test_an_order_whose_window_closed_cannot_be_applied_for(client, customer):
    order = recent_order(customer, delivered_days_ago=30)
    sign_in(client, customer)
    before = database_state()

    page = client.get(f"/status/orders/{order.number}/")
    response = client.post(f"/status/orders/{order.number}/apply/", form(order))

    assert f"/status/orders/{order.number}/apply/" not in page.content.decode()
    assert response.status_code == 409
    assert "售后期已过" in response.content.decode()
    assert database_state() == before


def test_a_resubmitted_form_opens_one_case(client, customer):
    order = recent_order(customer)
    sign_in(client, customer)
    data = form(order)

    first = client.post(f"/status/orders/{order.number}/apply/", data)
    again = client.post(f"/status/orders/{order.number}/apply/", data)

    assert Case.objects.count() == 1
    assert first["Location"] == again["Location"]


def test_another_customers_order_case_and_photo_are_not_found(client, customer):
    theirs = Customer.objects.create(name="李四")
    order = recent_order(theirs)
    case = open_case(order, now=timezone.now())
    photo = CasePhoto.objects.create(
        case=case, file="aftersales/photos/x.jpg", width=1, height=1, size=1, sha256="0" * 64
    )
    sign_in(client, customer)

    paths = [
        f"/status/orders/{order.number}/",
        f"/status/orders/{order.number}/apply/",
        f"/status/cases/{case.number}/",
        f"/status/cases/{case.number}/cancel/",
        f"/status/cases/{case.number}/photos/{photo.pk}/",
    ]
    assert [client.get(path).status_code for path in paths] == [404] * 5
    assert client.post(f"/status/cases/{case.number}/cancel/").status_code == 404
    home = client.get("/status/home/").content.decode()
    assert order.number not in home and case.number not in home


def test_without_a_code_every_page_sends_the_customer_to_the_lookup(client, customer):
    order = recent_order(customer)

    response = client.get(f"/status/orders/{order.number}/")

    assert response.status_code == 302 and response["Location"] == "/status/"


def test_the_home_lists_orders_and_cases_and_the_order_page_shows_tracking(client, customer):
    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    sign_in(client, customer)

    home = client.get("/status/home/").content.decode()
    page = client.get(f"/status/orders/{order.number}/").content.decode()

    assert order.number in home and case.number in home and "马克杯 × 2" in home
    assert "已签收" in page and "上海" in page and case.number in page
    assert "申请售后" in page


def test_the_case_page_shows_progress_the_return_address_and_takes_the_tracking_number(
    client, customer
):
    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    case_review(case=case, approve=True, return_address="上海市浦东新区仓库路 1 号 退货组")
    sign_in(client, customer)

    page = client.get(f"/status/cases/{case.number}/").content.decode()
    sent = client.post(
        f"/status/cases/{case.number}/", {"carrier": "SF", "tracking_number": "SF123456789"}
    )

    assert "上海市浦东新区仓库路 1 号 退货组" in page
    assert 'class="state-current step-waiting_for_return"' in page
    assert 'class="state-done step-submitted"' in page
    # Waiting for the customer's parcel, the case's clock holds: no time is promised.
    assert "预计" not in page
    assert sent.status_code == 302
    case.refresh_from_db()
    assert case.step == Step.RETURN_SHIPPED
    after = client.get(f"/status/cases/{case.number}/").content.decode()
    assert "SF123456789" in after
    assert 'class="state-current step-return_shipped"' in after
    assert "预计" in after  # our turn again: the step's expected finish


def test_an_empty_tracking_number_is_refused_on_the_page(client, customer):
    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    case_review(case=case, approve=True, return_address="仓库")
    sign_in(client, customer)

    response = client.post(
        f"/status/cases/{case.number}/", {"carrier": "SF", "tracking_number": " "}
    )

    assert response.status_code == 400
    case.refresh_from_db()
    assert case.step == Step.WAITING_FOR_RETURN


def test_a_rejected_case_shows_the_reason_and_ends_the_bar_there(client, customer):
    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    case_review(case=case, approve=False, reason="照片显示商品完好")
    sign_in(client, customer)

    page = client.get(f"/status/cases/{case.number}/").content.decode()

    assert "照片显示商品完好" in page
    assert "step-rejected" in page and "step-refunded" not in page
    assert "取消此申请" not in page


def test_a_customer_cancels_after_confirming(client, customer):
    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    sign_in(client, customer)

    confirm = client.get(f"/status/cases/{case.number}/cancel/")
    done = client.post(f"/status/cases/{case.number}/cancel/")

    assert confirm.status_code == 200
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.step == Step.CANCELLED
    again = client.post(f"/status/cases/{case.number}/cancel/")
    assert again.status_code == 409


def test_a_photo_is_served_only_as_a_jpeg_to_its_customer(client, customer):
    order = recent_order(customer)
    sign_in(client, customer)
    client.post(
        f"/status/orders/{order.number}/apply/",
        {**form(order), "photos": [SimpleUploadedFile("a.png", png(), content_type="image/png")]},
    )
    photo = CasePhoto.objects.get()

    response = client.get(f"/status/cases/{photo.case.number}/photos/{photo.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_a_skipped_step_and_a_failed_inspection_show_on_the_bar(client, customer):
    from aftersales.services import case_goods_received, case_receive

    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    case_review(case=case, approve=True, return_address="仓库")
    case_goods_received(case=case)
    case_receive(case=case, passed=False, note="INTERNAL-INSPECTION-NOTE")
    sign_in(client, customer)

    page = client.get(f"/status/cases/{case.number}/").content.decode()

    assert 'class="state-skipped step-return_shipped"' in page
    assert 'class="state-done step-received"' in page
    assert 'class="state-current step-inspection_failed"' in page
    assert 'class="state-todo step-completed"' in page
    assert "step-refunded" not in page
    assert "INTERNAL-INSPECTION-NOTE" not in page
    assert "取消此申请" not in page


def test_a_refund_shows_its_amount_and_method(client, customer):
    from aftersales.services import case_goods_received, case_receive, case_refund

    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    case_review(case=case, approve=True, return_address="仓库")
    case_goods_received(case=case)
    case_receive(case=case, passed=True)
    case_refund(case=case, amount=Decimal("50.00"), method="原路退回", reference="PAY-SECRET-REF")
    sign_in(client, customer)

    page = client.get(f"/status/cases/{case.number}/").content.decode()

    assert "已退款 50.00 CNY（原路退回）" in page
    assert 'class="state-current step-refunded"' in page


def test_the_return_parcels_tracking_shows_when_the_feed_has_it(client, customer):
    order = recent_order(customer)
    case = open_case(order, now=timezone.now())
    case_review(case=case, approve=True, return_address="仓库")
    sign_in(client, customer)
    client.post(f"/status/cases/{case.number}/", {"carrier": "YTO", "tracking_number": "YT42"})
    shipment = order.shipments.create(carrier="YTO", tracking_number="YT42", status="in_transit")
    shipment.events.create(status="退货运输中", location="苏州", at=timezone.now())

    page = client.get(f"/status/cases/{case.number}/").content.decode()

    assert "您寄回的包裹" in page and "退货运输中" in page and "苏州" in page


def test_the_after_sales_forms_are_rate_limited(client, customer, settings):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test
    order = recent_order(customer)
    sign_in(client, customer)

    codes = [
        client.post(f"/status/orders/{order.number}/apply/", {"token": "x"}).status_code
        for _ in range(3)
    ]

    assert codes == [400, 400, 429]
    assert Case.objects.count() == 0
