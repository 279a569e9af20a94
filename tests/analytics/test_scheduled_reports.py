"""Scheduled after-sales service reports: their periods in Asia/Shanghai, their figures (the
report pages' own), their files, their once-only sending by email, and the settings page."""

import base64
import email
import io
import logging
import re
import socket
import time
import zipfile
import zlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation

from analytics.facts import facts_refresh
from analytics.models import (
    ReportSend,
    ReportSendStatus,
    ReportSubscription,
    ScheduledReport,
)
from analytics.scheduled import (
    Period,
    aftersales_report,
    period_before,
    period_due_at,
    period_last,
    report_files,
    reports_send_due,
    subscription_save,
)
from tests.feedback.complaints_support import complaint_ticket, reviewed
from tickets.models import AuditEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = ScheduledReport.AFTERSALES_WEEKLY
MONTHLY = ScheduledReport.AFTERSALES_MONTHLY
# The week of the after-sales factories' NOW (Friday 2026-11-20).
WEEK = Period(start=date(2026, 11, 16), end=date(2026, 11, 22))
WEEK_DUE = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def in_english(client):  # type: ignore[no-untyped-def]
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


def cases_of_the_week() -> None:
    """Two refund-only cases opened on Friday; one refunded ¥40 and completed two hours
    later (as the after-sales report page's own test)."""
    from aftersales.services import case_complete, case_refund, case_review
    from aftersales.steps import CaseType
    from tests.aftersales.factories import NOW, make_order, open_case

    done = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="40.00")
    case_review(case=done, approve=True, now=NOW)
    case_refund(case=done, amount=Decimal("40.00"), method="balance", reference="R1", now=NOW)
    case_complete(case=done, now=NOW + timedelta(hours=2))
    open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00")
    facts_refresh()  # the case facts and rollups the report reads


def subscribe(supervisor, *, language: str = "en", **changes: object) -> ReportSubscription:  # type: ignore[no-untyped-def]
    user = supervisor.user
    user.email = "chen@shop.example"
    user.save(update_fields=["email"])
    subscription = subscription_save(
        subscription=None,
        report=str(changes.get("report", WEEKLY)),
        recipients=[user],
        language=language,
        attach_xlsx=bool(changes.get("attach_xlsx", True)),
        attach_pdf=bool(changes.get("attach_pdf", True)),
        is_active=True,
        actor=user,
    )
    # Subscribed well before the week's report was due.
    ReportSubscription.objects.filter(pk=subscription.pk).update(
        created_at=WEEK_DUE - timedelta(days=30)
    )
    subscription.refresh_from_db()
    return subscription


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[email.message.EmailMessage] = []

    class Collect(MessageHandler):
        def handle_message(self, message):  # type: ignore[no-untyped-def]
            received.append(email.message_from_bytes(message.as_bytes(), policy=default_policy))

    controller = Controller(Collect(), hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_TIMEOUT = 5
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": "channels_ingest.email.delivery.SmtpBackend",
    }
    from tickets.delivery import backend_for

    backend_for.cache_clear()
    yield received
    controller.stop()
    backend_for.cache_clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(items: list, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.05)


# --- periods ------------------------------------------------------------------------------


def test_the_weekly_period_is_the_last_monday_to_sunday():
    assert period_last(WEEKLY, date(2026, 11, 23)) == WEEK  # on Monday
    assert period_last(WEEKLY, date(2026, 11, 29)) == WEEK  # on Sunday: the week before
    assert period_last(WEEKLY, date(2026, 11, 30)).start == date(2026, 11, 23)
    assert period_before(WEEKLY, WEEK) == Period(date(2026, 11, 9), date(2026, 11, 15))


def test_the_week_is_shanghais_monday_already_when_utc_is_still_sunday():
    # Sunday 17:00 UTC is Monday 01:00 in Shanghai: the week just ended is the last full one.
    now = datetime(2026, 11, 29, 17, 0, tzinfo=ZoneInfo("UTC"))

    assert period_last(WEEKLY, timezone.localdate(now)) == Period(
        date(2026, 11, 23), date(2026, 11, 29)
    )


def test_the_monthly_period_is_the_last_calendar_month_across_a_new_year():
    assert period_last(MONTHLY, date(2027, 1, 1)) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert period_last(MONTHLY, date(2027, 1, 31)) == Period(date(2026, 12, 1), date(2026, 12, 31))
    december = period_last(MONTHLY, date(2027, 1, 15))
    assert period_before(MONTHLY, december) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert period_before(MONTHLY, Period(date(2026, 1, 1), date(2026, 1, 31))) == Period(
        date(2025, 12, 1), date(2025, 12, 31)
    )


def test_a_report_is_due_at_eight_local_time_the_day_after_its_period(settings):
    assert period_due_at(WEEK) == WEEK_DUE
    assert period_due_at(Period(date(2026, 12, 1), date(2026, 12, 31))) == datetime(
        2027, 1, 1, 8, 0, tzinfo=SHANGHAI
    )
    settings.REPORTS_SEND_HOUR = 9
    assert period_due_at(WEEK) == WEEK_DUE + timedelta(hours=1)


# --- content ------------------------------------------------------------------------------


def test_the_figures_are_the_after_sales_pages_own(client, supervisor):
    cases_of_the_week()
    client.force_login(supervisor.user)
    page = client.get(
        "/reports/aftersales/", {"start": WEEK.start.isoformat(), "end": WEEK.end.isoformat()}
    )
    shown = page.content.decode()

    report = aftersales_report(report=WEEKLY, period=WEEK)

    figures = {f.key: f for f in report.figures}
    assert (figures["opened"].now, figures["closed"].now) == (2.0, 1.0)
    assert figures["refunded"].shown == "¥40.00"
    assert figures["opened"].before == 0.0
    cycle = figures["cycle_avg_s:Refund only"]
    assert (cycle.label, cycle.shown, cycle.shown_before) == (
        "Refund only: cycle time (average)",
        "2.0 h",
        "—",
    )
    # The page shows the same row: opened, closed, cycle time, refunded.
    for text in ("Refund only", "2.0 h", "¥40.00"):
        assert text in shown
    assert report.tables[0].rows[0].values == [2.0, 1.0, 7200.0, 40.0]
    assert report.previous == Period(date(2026, 11, 9), date(2026, 11, 15))


def test_complaints_and_their_top_root_causes_are_counted_as_their_pages_count_them(
    client, supervisor
):
    for text in ("我要投诉你们的客服，态度太差了", "投诉：快递三天没到，不可接受"):
        ticket = complaint_ticket(text)
        reviewed(ticket, by=supervisor.user, code="agent_attitude")
    other = complaint_ticket("我要投诉，杯子又坏了")
    reviewed(other, by=supervisor.user, code="product_quality")
    facts_refresh()
    today = timezone.localdate()
    period = Period(start=today - timedelta(days=6), end=today)

    report = aftersales_report(report=WEEKLY, period=period)

    figures = {f.key: f for f in report.figures}
    assert (figures["complaints"].now, figures["complaints"].before) == (3.0, 0.0)
    assert [(c.name, c.now, c.before) for c in report.causes] == [
        ("Agent attitude", 2, 0),
        ("Product quality", 1, 0),
    ]
    client.force_login(supervisor.user)
    page = client.get(
        "/reports/categories/", {"start": period.start.isoformat(), "end": period.end.isoformat()}
    )
    assert page.status_code == 200


def test_the_workbook_has_a_summary_a_sheet_per_table_and_native_charts(supervisor):
    from openpyxl import load_workbook

    cases_of_the_week()
    report = aftersales_report(report=WEEKLY, period=WEEK)

    (xlsx,) = report_files(report, pdf=False)

    assert xlsx.filename == "kefu-aftersales-weekly_2026-11-16_2026-11-22.xlsx"
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == [
        "Summary",
        "After-sales cases per type",
        "Logistics anomalies per kind",
        "Time in each step per type",
    ]
    summary = book["Summary"]
    assert summary["A1"].value == "After-sales service report (weekly)"
    rows = {row[0]: row[1:3] for row in summary.iter_rows(min_row=5, values_only=True) if row[0]}
    assert rows["Cases opened"] == (2, 0)
    assert rows["Amount refunded"] == (40, 0)
    assert rows["Refund only: cycle time (average) (hours)"] == (2.0, None)
    cases = list(book["After-sales cases per type"].iter_rows(values_only=True))
    assert cases[1] == ("Refund only", 2, 1, 7200, 40)
    charts = [n for n in zipfile.ZipFile(io.BytesIO(xlsx.data)).namelist() if "charts/chart" in n]
    assert len(charts) == 2  # cases per type, on its sheet and on the summary
    assert b"<barChart>" in zipfile.ZipFile(io.BytesIO(xlsx.data)).read(charts[0])


def test_the_chinese_workbook_speaks_chinese(supervisor):
    from openpyxl import load_workbook

    cases_of_the_week()
    with translation.override("zh-hans"):
        report = aftersales_report(report=WEEKLY, period=WEEK)
        (xlsx,) = report_files(report, pdf=False)

    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames[0] == "摘要"
    assert book["摘要"]["A1"].value == "售后服务报告（周报）"
    assert "新增售后单" in [row[0] for row in book["摘要"].iter_rows(values_only=True)]


def pdf_text_streams(data: bytes) -> bytes:
    """The page content streams of a PDF, inflated."""
    found = b""
    for chunk in re.findall(rb"stream\r?\n(.*?)endstream", data, re.DOTALL):
        body = chunk.strip()
        try:
            if body.endswith(b"~>"):  # reportlab's ASCII85 around the deflated bytes
                body = base64.a85decode(body[:-2])
            found += zlib.decompress(body)
        except (ValueError, zlib.error):
            continue
    return found


ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def pdf_text(data: bytes) -> str:
    """The text a PDF's pages draw: its literal strings, unescaped, read as the UCS-2 of the
    CID font."""
    words = []
    for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", pdf_text_streams(data), re.DOTALL):
        raw = bytearray()
        i = 0
        while i < len(literal):
            if literal[i] == ord("\\"):
                octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
                if octal:
                    raw.append(int(octal.group(), 8))
                    i += 1 + len(octal.group())
                    continue
                raw.append(ESCAPES.get(literal[i + 1], literal[i + 1]))
                i += 2
                continue
            raw.append(literal[i])
            i += 1
        words.append(bytes(raw).decode("utf-16-be", errors="replace"))
    return "\n".join(words)


def test_the_pdf_is_a_pdf_with_its_figures_in_chinese_type(supervisor):
    cases_of_the_week()
    with translation.override("zh-hans"):
        report = aftersales_report(report=WEEKLY, period=WEEK)
        (pdf,) = report_files(report, xlsx=False)

    assert pdf.data.startswith(b"%PDF-")
    assert pdf.filename == "kefu-aftersales-weekly_2026-11-16_2026-11-22.pdf"
    assert b"STSong-Light" in pdf.data
    text = pdf_text(pdf.data).splitlines()
    assert "售后服务报告（周报）" in text
    assert "新增售后单" in text
    assert "¥40.00" in text
    assert "投诉主要根本原因" in text


# --- sending ------------------------------------------------------------------------------


def test_the_weekly_report_goes_out_once_with_its_files_even_when_the_task_runs_again(
    supervisor, smtp_server
):
    cases_of_the_week()
    subscription = subscribe(supervisor, language="zh-hans")

    first = reports_send_due(now=WEEK_DUE + timedelta(minutes=5))
    again = reports_send_due(now=WEEK_DUE + timedelta(hours=1))
    wait_for(smtp_server, 2)

    assert first == {"owed": 1, "sent": 1, "failed": 0}
    assert again == {"owed": 0, "sent": 0, "failed": 0}
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "chen@shop.example"
    # (the parser keeps the space before the encoded words of a folded header)
    assert message["Subject"].strip() == "售后服务报告（周报） 2026-11-16 – 2026-11-22"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "新增售后单" in message.get_body(("plain",)).get_content()
    files = {part.get_filename(): part.get_content_type() for part in message.iter_attachments()}
    assert files == {
        "kefu-aftersales-weekly_2026-11-16_2026-11-22.xlsx": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
        "kefu-aftersales-weekly_2026-11-16_2026-11-22.pdf": "application/pdf",
    }
    pdf = next(p for p in message.iter_attachments() if p.get_filename().endswith(".pdf"))
    assert pdf.get_content().startswith(b"%PDF-")
    send = ReportSend.objects.get()
    assert (send.subscription, send.period_start, send.status, send.attempts) == (
        subscription,
        WEEK.start,
        ReportSendStatus.SENT,
        1,
    )


def test_a_send_claimed_by_another_worker_is_not_sent_twice(supervisor, smtp_server):
    subscribe(supervisor)
    now = WEEK_DUE + timedelta(minutes=5)
    from analytics.scheduled import _claim, _owe

    _owe(now)
    send = ReportSend.objects.get()
    assert _claim(send.pk, now) is True  # another worker has it

    assert reports_send_due(now=now) == {"owed": 0, "sent": 0, "failed": 0}
    assert smtp_server == []


def test_nothing_is_owed_before_eight_on_monday_nor_for_a_week_before_the_subscription(
    supervisor, smtp_server
):
    subscription = subscribe(supervisor)

    assert reports_send_due(now=WEEK_DUE - timedelta(minutes=1))["owed"] == 0
    ReportSubscription.objects.filter(pk=subscription.pk).update(
        created_at=WEEK_DUE + timedelta(minutes=1)
    )
    assert reports_send_due(now=WEEK_DUE + timedelta(minutes=5))["owed"] == 0
    assert ReportSend.objects.count() == 0
    assert smtp_server == []


def test_a_failed_send_is_logged_and_sent_on_the_next_run(supervisor, settings, caplog):
    from tickets.delivery import backend_for

    subscribe(supervisor)
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": "channels_ingest.email.delivery.SmtpBackend",
    }
    backend_for.cache_clear()

    with caplog.at_level(logging.WARNING, logger="kefu.analytics.scheduled"):
        failed = reports_send_due(now=WEEK_DUE + timedelta(minutes=5))

    assert failed == {"owed": 1, "sent": 0, "failed": 1}
    send = ReportSend.objects.get()
    assert (send.status, send.attempts) == (ReportSendStatus.FAILED, 1)
    assert "SMTP unavailable" in send.last_error
    assert "tried again next run" in caplog.text

    received: list[email.message.EmailMessage] = []
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    class Collect(MessageHandler):
        def handle_message(self, message):  # type: ignore[no-untyped-def]
            received.append(message)

    controller = Controller(Collect(), hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        retried = reports_send_due(now=WEEK_DUE + timedelta(hours=1, minutes=5))
        wait_for(received, 1)
    finally:
        controller.stop()
        backend_for.cache_clear()

    assert retried == {"owed": 0, "sent": 1, "failed": 0}
    assert len(received) == 1
    send.refresh_from_db()
    assert (send.status, send.attempts, send.last_error) == (ReportSendStatus.SENT, 2, "")


def test_a_send_that_keeps_failing_stops_after_the_last_attempt(supervisor, settings, caplog):
    from tickets.delivery import backend_for

    subscribe(supervisor)
    settings.REPORTS_SEND_ATTEMPTS = 2
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": "channels_ingest.email.delivery.SmtpBackend",
    }
    backend_for.cache_clear()
    try:
        for hours in (0, 1, 2):
            reports_send_due(now=WEEK_DUE + timedelta(hours=hours, minutes=5))
    finally:
        backend_for.cache_clear()

    send = ReportSend.objects.get()
    assert (send.status, send.attempts) == (ReportSendStatus.FAILED, 2)
    assert "gave up after 2 attempts" in caplog.text


def test_a_recipient_who_is_no_longer_a_supervisor_gets_nothing(supervisor, smtp_server):
    subscription = subscribe(supervisor)
    supervisor.user.groups.clear()

    assert reports_send_due(now=WEEK_DUE + timedelta(minutes=5))["owed"] == 0
    assert subscription.recipients.count() == 1
    assert smtp_server == []


def test_a_send_owed_to_someone_taken_off_the_subscription_is_not_sent(supervisor, smtp_server):
    from analytics.scheduled import _owe

    subscription = subscribe(supervisor)
    _owe(WEEK_DUE + timedelta(minutes=5))
    subscription.recipients.clear()

    counts = reports_send_due(now=WEEK_DUE + timedelta(minutes=10))

    assert counts == {"owed": 0, "sent": 0, "failed": 1}
    assert ReportSend.objects.get().last_error == "no longer a recipient of this report"
    assert smtp_server == []


def test_the_demo_outbox_keeps_the_report_mail(supervisor):
    from channels_ingest.models import OutboxEntry

    subscribe(supervisor)

    reports_send_due(now=WEEK_DUE + timedelta(minutes=5))

    entry = OutboxEntry.objects.get()
    assert (entry.channel, entry.kind, entry.to) == ("email", "notification", "chen@shop.example")
    assert entry.subject == "After-sales service report (weekly) 2026-11-16 – 2026-11-22"


# --- the settings page --------------------------------------------------------------------


def test_a_supervisor_adds_changes_and_removes_a_subscription_audited(client, supervisor):
    client.force_login(supervisor.user)
    assert client.get("/reports/scheduled/new/").status_code == 200

    response = client.post(
        "/reports/scheduled/new/",
        {
            "report": MONTHLY,
            "recipients": [supervisor.user.pk],
            "language": "zh-hans",
            "attach_xlsx": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    subscription = ReportSubscription.objects.get()
    assert (subscription.report, subscription.language) == (MONTHLY, "zh-hans")
    assert (subscription.attach_xlsx, subscription.attach_pdf) == (True, False)
    assert list(subscription.recipients.all()) == [supervisor.user]
    page = client.get("/reports/scheduled/").content.decode()
    assert "After-sales service report, monthly" in page

    client.post(
        f"/reports/scheduled/{subscription.pk}/",
        {
            "report": WEEKLY,
            "recipients": [supervisor.user.pk],
            "language": "en",
            "attach_pdf": "on",
        },
    )
    subscription.refresh_from_db()
    assert (subscription.report, subscription.is_active, subscription.attach_pdf) == (
        WEEKLY,
        False,
        True,
    )
    assert client.post(f"/reports/scheduled/{subscription.pk}/delete/").status_code == 302
    assert not ReportSubscription.objects.exists()
    actions = list(
        AuditEntry.objects.filter(object_type="report_subscription")
        .order_by("pk")
        .values_list("action", "actor")
    )
    assert actions == [
        ("report_subscription_added", supervisor.user.pk),
        ("report_subscription_changed", supervisor.user.pk),
        ("report_subscription_removed", supervisor.user.pk),
    ]


def test_a_subscription_needs_a_format_and_supervisors_as_recipients(client, supervisor, agent):
    client.force_login(supervisor.user)

    no_format = client.post(
        "/reports/scheduled/new/",
        {"report": WEEKLY, "recipients": [supervisor.user.pk], "language": "en"},
    )
    an_agent = client.post(
        "/reports/scheduled/new/",
        {"report": WEEKLY, "recipients": [agent.user.pk], "language": "en", "attach_pdf": "on"},
    )

    assert (no_format.status_code, an_agent.status_code) == (400, 400)
    assert "Choose at least one format." in no_format.content.decode()
    assert not ReportSubscription.objects.exists()


def test_the_settings_pages_are_for_supervisors_only(client, agent, supervisor):
    subscription = subscribe(supervisor)
    pages = [
        ("get", "/reports/scheduled/"),
        ("get", "/reports/scheduled/new/"),
        ("get", f"/reports/scheduled/{subscription.pk}/"),
        ("get", f"/reports/scheduled/{subscription.pk}/preview.pdf"),
        ("post", f"/reports/scheduled/{subscription.pk}/send/"),
        ("post", f"/reports/scheduled/{subscription.pk}/delete/"),
    ]
    for method, path in pages:
        assert getattr(client, method)(path).status_code == 302, path  # to sign in
    client.force_login(agent.user)
    for method, path in pages:
        assert getattr(client, method)(path).status_code == 403, path
    assert ReportSubscription.objects.count() == 1


def test_changes_need_the_csrf_token(supervisor):
    subscription = subscribe(supervisor)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(supervisor.user)

    response = browser.post(f"/reports/scheduled/{subscription.pk}/delete/")

    assert response.status_code == 403
    assert ReportSubscription.objects.count() == 1


def test_preview_downloads_the_last_full_periods_report(client, supervisor):
    subscription = subscribe(supervisor)
    client.force_login(supervisor.user)
    period = period_last(WEEKLY, timezone.localdate())

    xlsx = client.get(f"/reports/scheduled/{subscription.pk}/preview.xlsx")
    pdf = client.get(f"/reports/scheduled/{subscription.pk}/preview.pdf")

    assert xlsx.status_code == pdf.status_code == 200
    assert xlsx["Content-Disposition"] == (
        f'attachment; filename="kefu-aftersales-weekly_{period.slug()}.xlsx"'
    )
    assert xlsx.content[:2] == b"PK"
    assert pdf.content.startswith(b"%PDF-")
    assert client.get(f"/reports/scheduled/{subscription.pk}/preview.csv").status_code == 404


def test_send_now_mails_the_recipients_and_is_audited(client, supervisor, smtp_server):
    subscription = subscribe(supervisor, attach_pdf=False)
    client.force_login(supervisor.user)

    response = client.post(f"/reports/scheduled/{subscription.pk}/send/", follow=True)
    wait_for(smtp_server, 1)

    assert "Sent to 1 recipients." in response.content.decode()
    assert len(smtp_server) == 1
    assert [p.get_filename()[-5:] for p in smtp_server[0].iter_attachments()] == [".xlsx"]
    assert ReportSend.objects.count() == 0  # the schedule still owes its own
    assert AuditEntry.objects.filter(action="report_sent_on_request").count() == 1


def test_the_demo_has_a_subscription_for_the_supervisor(settings, supervisor):
    from django.core.management import call_command

    from aftersales.models import Case
    from analytics.management.commands.seed_demo_reports import HISTORY, RETURNS
    from tests.factories import intake

    settings.EMBEDDED = True
    supervisor.user.username = "supervisor"
    supervisor.user.save(update_fields=["username"])

    intake(text="你好")  # a demo customer for the history's orders

    call_command("seed_demo_reports")
    call_command("seed_demo_reports")
    facts_refresh()  # as the periodic refresh does once the demo runs

    subscription = ReportSubscription.objects.get()
    assert list(subscription.recipients.values_list("username", flat=True)) == ["supervisor"]
    assert subscription.language == "zh-hans"
    # The preview of the last full week has the history's cases: five refunds completed, an
    # exchange withdrawn, a repair still open.
    report = aftersales_report(report=WEEKLY, period=period_last(WEEKLY, timezone.localdate()))
    figures = {f.key: f.now for f in report.figures}
    assert (figures["opened"], figures["closed"]) == (7.0, 6.0)
    assert Case.objects.count() == sum(sum(week) for week in HISTORY) + sum(RETURNS)
