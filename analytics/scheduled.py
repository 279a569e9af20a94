"""Scheduled reports: the after-sales service report (售后服务报告) of the last full week or
month, emailed to the supervisors who subscribed to it (docs/metrics.md: Scheduled reports).

- The content is read from the functions the report pages read (`analytics.pages` for cases
  and anomalies, the category rollups for complaints, the complaint reviews page's counts per
  root cause, the satisfaction page's CSAT): no figure is defined twice.
- `reports_send_due` runs hourly (Celery beat, or the embedded ticker). A period is due at
  REPORTS_SEND_HOUR (local) on the day after it ends: Monday morning for a week, the 1st for a
  month. Each recipient's report of a period is one `ReportSend` row, unique per subscription,
  period and recipient, claimed with a compare-and-set before it is sent: a task that runs
  twice, or two workers at once, send it once. A failed send stays owed and is tried again on
  the next run, up to REPORTS_SEND_ATTEMPTS; a worker that died mid-send leaves its claim to
  expire and the next run sends it (at least once, then, never silently lost).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import pages, reports
from analytics.models import (
    ReportSend,
    ReportSendStatus,
    ReportSubscription,
    ScheduledReport,
)
from analytics.report_views import _change, _show
from feedback.selectors.complaints import reviews_by_cause_and_month, reviews_filtered
from kefu.roles import Role
from tickets.delivery import (
    DeliveryResult,
    OutboundFile,
    TransientDeliveryError,
    backend_for,
)
from tickets.delivery import Outbound as OutboundMessage
from tickets.models import DeliveryStatus
from tickets.services.audit import audit_record

logger = logging.getLogger("kefu.analytics.scheduled")

# How long a worker may take over one send before the next run takes it again.
SEND_LEASE = timedelta(minutes=15)
TOP_CAUSES = 5

# --- periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def filters(self) -> reports.Filters:
        return reports.Filters(start=self.start, end=self.end)

    def slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def period_last(report: str, today: date) -> Period:
    """The last full period before `today` (a local date): Monday to Sunday for the weekly
    report, the calendar month for the monthly one."""
    if report == ScheduledReport.AFTERSALES_WEEKLY:
        end = today - timedelta(days=today.isoweekday())  # last Sunday
        return Period(start=end - timedelta(days=6), end=end)
    end = today.replace(day=1) - timedelta(days=1)
    return Period(start=end.replace(day=1), end=end)


def period_before(report: str, period: Period) -> Period:
    """The period just before, of the same kind (the previous calendar month, not 30 days)."""
    return period_last(report, period.start)


def period_due_at(period: Period) -> datetime:
    """When a period's report goes out: REPORTS_SEND_HOUR local time on the day after it."""
    return timezone.make_aware(
        datetime.combine(period.end + timedelta(days=1), time(settings.REPORTS_SEND_HOUR)),
        timezone.get_current_timezone(),
    )


def next_send_at(report: str, now: datetime) -> datetime:
    """When the schedule next sends a report of this kind."""
    today = timezone.localdate(now)
    due = period_due_at(period_last(report, today))
    if due > now:
        return due
    if report == ScheduledReport.AFTERSALES_WEEKLY:
        return due + timedelta(days=7)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return period_due_at(period_last(report, next_month))


# --- content ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    kind: str  # as the report pages' columns: count, duration, share, amount
    now: float | None
    before: float | None

    @property
    def shown(self) -> str:
        return _show(self.now, self.kind)

    @property
    def shown_before(self) -> str:
        return _show(self.before, self.kind)

    @property
    def change(self) -> str:
        return _change(self.now, self.before, self.kind)


@dataclass(frozen=True)
class Cause:
    name: str
    now: int
    before: int


@dataclass
class AftersalesReport:
    """One period's after-sales service report, its words in the language it was built in."""

    report: str
    title: str
    period: Period
    previous: Period
    figures: list[Figure]
    tables: list[pages.Table]  # cases per type, anomalies per kind (the period's)
    causes: list[Cause]
    language: str = ""
    generated_at: datetime = field(default_factory=timezone.now)

    def file_name(self, extension: str) -> str:
        kind = "weekly" if self.report == ScheduledReport.AFTERSALES_WEEKLY else "monthly"
        return f"kefu-aftersales-{kind}_{self.period.slug()}.{extension}"


def _column(table: pages.Table, key: str) -> int:
    return next(i for i, column in enumerate(table.columns) if column.key == key)


def _sum(table: pages.Table, key: str) -> float:
    index = _column(table, key)
    return sum(row.values[index] or 0 for row in table.rows)


def _per_row(table: pages.Table, key: str) -> dict[str, float | None]:
    index = _column(table, key)
    return {row.label: row.values[index] for row in table.rows}


def _complaints(filters: reports.Filters) -> int:
    """Complaints received: contacts of the category `complaint`, as the categories page
    counts them."""
    return dict(reports.categories(filters)).get("complaint", 0)


def _causes(period: Period) -> dict[int, tuple[str, int]]:
    """Reviewed complaints per root cause, received in the period (the reviews page's count)."""
    table = reviews_by_cause_and_month(reviews_filtered(since=period.start, until=period.end))
    return {row.cause.pk: (row.cause.name, row.total) for row in table.rows}


def _csat(period: Period) -> tuple[float | None, int]:
    """CSAT of the period as the report pages show it (the rollups' answers of the period)."""
    totals = reports.period_totals(period.filters())
    return totals.csat_rate, totals.csat_answered


REPORT_TITLES = {
    ScheduledReport.AFTERSALES_WEEKLY: gettext_lazy("After-sales service report (weekly)"),
    ScheduledReport.AFTERSALES_MONTHLY: gettext_lazy("After-sales service report (monthly)"),
}


def aftersales_report(*, report: str, period: Period) -> AftersalesReport:
    """The report of `period` against the period before, in the active language."""
    previous = period_before(report, period)
    now_tables = pages.aftersales_tables(period.filters())
    before_tables = pages.aftersales_tables(previous.filters())
    cases, anomalies = now_tables[:2]
    cases_before, anomalies_before = before_tables[:2]
    figures = [
        Figure(
            "opened",
            _("Cases opened"),
            "count",
            _sum(cases, "opened"),
            _sum(cases_before, "opened"),
        ),
        Figure(
            "closed",
            _("Cases closed"),
            "count",
            _sum(cases, "closed"),
            _sum(cases_before, "closed"),
        ),
        Figure(
            "refunded",
            _("Amount refunded"),
            "amount",
            _sum(cases, "refunded"),
            _sum(cases_before, "refunded"),
        ),
        Figure(
            "anomalies",
            _("Logistics anomalies detected"),
            "count",
            _sum(anomalies, "detected"),
            _sum(anomalies_before, "detected"),
        ),
        Figure(
            "complaints",
            _("Complaints received"),
            "count",
            float(_complaints(period.filters())),
            float(_complaints(previous.filters())),
        ),
    ]
    (csat_now, answered_now), (csat_before, answered_before) = _csat(period), _csat(previous)
    if answered_now or answered_before:
        figures.append(Figure("csat", _("CSAT"), "share", csat_now, csat_before))
    # Per case type: the types either period had, in the order of the table.
    labels = [row.label for row in cases.rows]
    labels += [row.label for row in cases_before.rows if row.label not in labels]
    for key, words, kind in (
        ("opened", _("%(type)s: opened"), "count"),
        ("closed", _("%(type)s: closed"), "count"),
        ("cycle_avg_s", _("%(type)s: cycle time (average)"), "duration"),
    ):
        now, before = _per_row(cases, key), _per_row(cases_before, key)
        for label in labels:
            figures.append(
                Figure(
                    f"{key}:{label}",
                    words % {"type": label},
                    kind,
                    now.get(label, 0.0 if kind == "count" else None),
                    before.get(label, 0.0 if kind == "count" else None),
                )
            )
    causes_now, causes_before = _causes(period), _causes(previous)
    causes = sorted(
        (
            Cause(name=name, now=total, before=causes_before.get(pk, ("", 0))[1])
            for pk, (name, total) in causes_now.items()
        ),
        key=lambda cause: (-cause.now, cause.name),
    )[:TOP_CAUSES]
    return AftersalesReport(
        report=report,
        title=str(REPORT_TITLES[ScheduledReport(report)]),
        period=period,
        previous=previous,
        figures=figures,
        tables=now_tables,
        causes=causes,
        language=translation.get_language() or "",
    )


# --- files and email ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile(OutboundFile):
    """A file made for the message, carried in memory rather than from storage."""

    data: bytes = b""

    def read(self) -> bytes:
        return self.data


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_files(
    content: AftersalesReport, *, xlsx: bool = True, pdf: bool = True
) -> list[ReportFile]:
    from analytics import report_files as files

    made = []
    if xlsx:
        data = files.report_xlsx(content)
        made.append(_file(content.file_name("xlsx"), XLSX_TYPE, data))
    if pdf:
        data = files.report_pdf(content)
        made.append(_file(content.file_name("pdf"), "application/pdf", data))
    return made


def _file(name: str, content_type: str, data: bytes) -> ReportFile:
    return ReportFile(
        filename=name, content_type=content_type, size=len(data), url="", storage_name="", data=data
    )


def report_email_body(content: AftersalesReport) -> str:
    lines = [
        content.title,
        _("%(start)s to %(end)s, against %(previous_start)s to %(previous_end)s")
        % {
            "start": content.period.start.isoformat(),
            "end": content.period.end.isoformat(),
            "previous_start": content.previous.start.isoformat(),
            "previous_end": content.previous.end.isoformat(),
        },
        "",
    ]
    for figure in content.figures[:6]:
        change = f" ({figure.change})" if figure.change else ""
        lines.append(f"- {figure.label}: {figure.shown}{change}")
    if content.causes:
        lines += ["", _("Top root causes of complaints:")]
        lines += [f"- {cause.name}: {cause.now}" for cause in content.causes]
    lines += ["", _("The full report is attached.")]
    return "\n".join(lines)


def _deliver(to: str, content: AftersalesReport, attached: list[ReportFile]) -> DeliveryResult:
    """Through the email channel's delivery backend (SMTP, or the outbox in embedded mode)."""
    outbound = OutboundMessage(
        channel="email",
        to=to,
        subject=f"{content.title} {content.period.start.isoformat()} – "
        f"{content.period.end.isoformat()}",
        body=report_email_body(content),
        kind="notification",
        attachments=tuple(attached),
    )
    return backend_for("email").send(outbound)


# --- who may receive ----------------------------------------------------------------------


def supervisors() -> QuerySet[User]:
    """The users a report may go to: active supervisors and administrators."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=[Role.SUPERVISOR, Role.ADMIN]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def _recipients(subscription: ReportSubscription) -> list[User]:
    """The subscription's recipients who may still receive it and have an address."""
    allowed = supervisors().exclude(email="").values("pk")
    return list(subscription.recipients.filter(pk__in=allowed).order_by("pk"))


# --- sending ------------------------------------------------------------------------------


def _owe(now: datetime) -> int:
    """Record the sends owed for each active subscription's last due period (a period due
    before the subscription existed is not owed). Rows that exist already are left alone."""
    rows = []
    today = timezone.localdate(now)
    for subscription in ReportSubscription.objects.filter(is_active=True):
        period = period_last(subscription.report, today)
        due = period_due_at(period)
        if now < due:  # Monday before the hour: last week's report is not due yet
            continue
        if due < subscription.created_at:
            continue
        rows += [
            ReportSend(
                subscription=subscription,
                recipient=user,
                period_start=period.start,
                period_end=period.end,
            )
            for user in _recipients(subscription)
        ]
    if not rows:
        return 0
    owed = set(
        ReportSend.objects.filter(
            subscription__in={row.subscription_id for row in rows},
            period_start__in={row.period_start for row in rows},
        ).values_list("subscription_id", "period_start", "recipient_id")
    )
    new = [
        row for row in rows if (row.subscription_id, row.period_start, row.recipient_id) not in owed
    ]
    # The unique constraint settles a race with another run: its row stands, ours is dropped.
    ReportSend.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _claim(send_id: int, now: datetime) -> bool:
    """Take one owed send for this worker: True for exactly one claimant."""
    owed = Q(status__in=[ReportSendStatus.PENDING, ReportSendStatus.FAILED]) | Q(
        status=ReportSendStatus.SENDING, claimed_until__lt=now
    )
    return bool(
        ReportSend.objects.filter(owed, pk=send_id, attempts__lt=settings.REPORTS_SEND_ATTEMPTS)
        .filter(subscription__is_active=True)
        .update(
            status=ReportSendStatus.SENDING,
            claimed_until=now + SEND_LEASE,
            attempts=F("attempts") + 1,
        )
    )


def reports_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Send every scheduled report that is due and not sent yet; returns the counts."""
    now = now or timezone.now()
    counts = {"owed": _owe(now), "sent": 0, "failed": 0}
    owed_ids = list(
        ReportSend.objects.filter(
            Q(status__in=[ReportSendStatus.PENDING, ReportSendStatus.FAILED])
            | Q(status=ReportSendStatus.SENDING, claimed_until__lt=now),
            attempts__lt=settings.REPORTS_SEND_ATTEMPTS,
            subscription__is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    made: dict[tuple[int, date], tuple[AftersalesReport, list[ReportFile]]] = {}
    for send_id in owed_ids:
        if not _claim(send_id, now):
            continue
        send = ReportSend.objects.select_related("subscription", "recipient").get(pk=send_id)
        subscription = send.subscription
        try:
            key = (subscription.pk, send.period_start)
            if key not in made:
                with translation.override(subscription.language):
                    period = Period(start=send.period_start, end=send.period_end)
                    content = aftersales_report(report=subscription.report, period=period)
                    made[key] = (
                        content,
                        report_files(
                            content, xlsx=subscription.attach_xlsx, pdf=subscription.attach_pdf
                        ),
                    )
            if send.recipient_id not in {user.pk for user in _recipients(subscription)}:
                # Taken off the subscription, or no longer a supervisor, since it was owed.
                raise ValueError("no longer a recipient of this report")
            content, attached = made[key]
            with translation.override(subscription.language):
                result = _deliver(send.recipient.email, content, attached)
            if result.status == DeliveryStatus.FAILED:
                raise TransientDeliveryError(result.error or "refused")
        except Exception as error:  # any failure leaves the send owed
            _failed(send, str(error))
            counts["failed"] += 1
            continue
        ReportSend.objects.filter(pk=send.pk).update(
            status=ReportSendStatus.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
        )
        counts["sent"] += 1
        logger.info(
            "scheduled report %s of %s sent to user %s",
            subscription.report,
            send.period_start,
            send.recipient_id,
        )
    return counts


def _failed(send: ReportSend, error: str) -> None:
    ReportSend.objects.filter(pk=send.pk).update(
        status=ReportSendStatus.FAILED, claimed_until=None, last_error=error[:500]
    )
    attempts = send.attempts + 1  # as claimed
    if attempts >= settings.REPORTS_SEND_ATTEMPTS:
        logger.error(
            "scheduled report send %s gave up after %s attempts: %s", send.pk, attempts, error
        )
    else:
        logger.warning(
            "scheduled report send %s failed (attempt %s), tried again next run: %s",
            send.pk,
            attempts,
            error,
        )


def report_send_now(*, subscription: ReportSubscription, actor: User) -> tuple[int, int]:
    """Send the last full period's report to the subscription's recipients at once (outside
    the schedule, which still sends its own). Returns (sent, failed); audited."""
    period = period_last(subscription.report, timezone.localdate())
    sent = failed = 0
    with translation.override(subscription.language):
        content = aftersales_report(report=subscription.report, period=period)
        attached = report_files(content, xlsx=subscription.attach_xlsx, pdf=subscription.attach_pdf)
        for user in _recipients(subscription):
            try:
                result = _deliver(user.email, content, attached)
                ok = result.status != DeliveryStatus.FAILED
            except Exception as error:  # reported to the supervisor who asked
                logger.warning("report sent on request to user %s failed: %s", user.pk, error)
                ok = False
            sent, failed = (sent + 1, failed) if ok else (sent, failed + 1)
    audit_record(
        actor=actor,
        action="report_sent_on_request",
        object_type="report_subscription",
        object_id=str(subscription.pk),
        data={"period": period.slug(), "sent": sent, "failed": failed},
    )
    return sent, failed


# --- subscriptions ------------------------------------------------------------------------


def _described(subscription: ReportSubscription) -> dict[str, object]:
    return {
        "report": subscription.report,
        "language": subscription.language,
        "xlsx": subscription.attach_xlsx,
        "pdf": subscription.attach_pdf,
        "active": subscription.is_active,
        "recipients": sorted(subscription.recipients.values_list("pk", flat=True)),
    }


@transaction.atomic
def subscription_save(
    *,
    subscription: ReportSubscription | None,
    report: str,
    recipients: Iterable[User],
    language: str,
    attach_xlsx: bool,
    attach_pdf: bool,
    is_active: bool,
    actor: User | None,
) -> ReportSubscription:
    """Create a subscription (`subscription` None) or change one; audited with its settings
    (recipients by id). Raises ValueError for no format or a recipient who is not a
    supervisor or administrator."""
    if not (attach_xlsx or attach_pdf):
        raise ValueError("a report needs at least one format")
    people = list(recipients)
    allowed = set(supervisors().filter(pk__in=[u.pk for u in people]).values_list("pk", flat=True))
    if any(user.pk not in allowed for user in people):
        raise ValueError("reports go to supervisors and administrators only")
    created = subscription is None
    if subscription is None:
        subscription = ReportSubscription(created_by=actor)
    subscription.report = report
    subscription.language = language
    subscription.attach_xlsx = attach_xlsx
    subscription.attach_pdf = attach_pdf
    subscription.is_active = is_active
    subscription.save()
    subscription.recipients.set(people)
    audit_record(
        actor=actor,
        action="report_subscription_added" if created else "report_subscription_changed",
        object_type="report_subscription",
        object_id=str(subscription.pk),
        data=_described(subscription),
    )
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: ReportSubscription, actor: User) -> None:
    data: dict[str, Any] = _described(subscription)
    pk = subscription.pk
    subscription.delete()
    audit_record(
        actor=actor,
        action="report_subscription_removed",
        object_type="report_subscription",
        object_id=str(pk),
        data=data,
    )
