"""Reads of complaints, their reviews and suggestions: the complaint list, reviews by root
cause and month, the overdue corrective actions (the live board), suggestion counts."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from feedback.models import (
    ActionStatus,
    Complaint,
    ComplaintReview,
    RootCause,
    Suggestion,
    SuggestionStatus,
)


def complaints_list(
    *, state: str = "", reviewed: str = "", owner_id: int | None = None
) -> QuerySet[Complaint]:
    """Complaints, newest first, with their ticket, owner and review. `state`: "open" or
    "closed" (the ticket's); `reviewed`: "yes" or "no"."""
    rows = Complaint.objects.select_related(
        "ticket", "owner", "review__root_cause", "review__action_owner"
    )
    if state == "open":
        rows = rows.filter(ticket__is_open=True)
    elif state == "closed":
        rows = rows.filter(ticket__is_open=False)
    if reviewed == "yes":
        rows = rows.filter(review__isnull=False)
    elif reviewed == "no":
        rows = rows.filter(review__isnull=True)
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    return rows.order_by("-created_at", "-pk")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def reviews_filtered(
    *,
    since: date | None = None,
    until: date | None = None,
    root_cause_id: int | None = None,
    department: str = "",
) -> QuerySet[ComplaintReview]:
    """Reviews of the complaints received from `since` to `until` (inclusive, local days),
    of one cause and one department (case-insensitive) when given."""
    rows = ComplaintReview.objects.select_related(
        "complaint__ticket", "root_cause", "action_owner", "reviewer"
    )
    if since is not None:
        rows = rows.filter(complaint__ticket__created_at__gte=_start_of(since))
    if until is not None:
        rows = rows.filter(complaint__ticket__created_at__lt=_start_of(until) + timedelta(days=1))
    if root_cause_id is not None:
        rows = rows.filter(root_cause_id=root_cause_id)
    if department:
        rows = rows.filter(department__iexact=department)
    return rows.order_by("-complaint__ticket__created_at", "-pk")


@dataclass(frozen=True)
class CauseRow:
    cause: RootCause
    counts: list[int]  # one per month of `CauseTable.months`
    total: int


@dataclass(frozen=True)
class CauseTable:
    months: list[date]
    rows: list[CauseRow]
    totals: list[int]


def reviews_by_cause_and_month(reviews: QuerySet[ComplaintReview]) -> CauseTable:
    """How many reviewed complaints each root cause had per month (the month the complaint
    was received, local time): the same cause coming back shows as a row that keeps filling.
    One query; causes in taxonomy order, months oldest first."""
    counted = (
        reviews.order_by()
        .annotate(
            month=TruncMonth(
                "complaint__ticket__created_at", tzinfo=timezone.get_current_timezone()
            )
        )
        .values("root_cause_id", "month")
        .annotate(n=Count("pk"))
    )
    cells: dict[tuple[int, date], int] = {}
    for row in counted:
        month = row["month"]
        day = month.date() if isinstance(month, datetime) else month
        cells[(row["root_cause_id"], day)] = row["n"]
    months = sorted({month for _cause, month in cells})
    cause_ids = {cause_id for cause_id, _month in cells}
    rows = []
    for cause in RootCause.objects.filter(pk__in=cause_ids).order_by("position", "pk"):
        counts = [cells.get((cause.pk, month), 0) for month in months]
        rows.append(CauseRow(cause=cause, counts=counts, total=sum(counts)))
    totals = [sum(row.counts[i] for row in rows) for i in range(len(months))]
    return CauseTable(months=months, rows=rows, totals=totals)


def overdue_actions(*, today: date | None = None, limit: int = 10) -> list[ComplaintReview]:
    """Corrective actions not done whose due date has passed, the longest overdue first."""
    today = today or timezone.localdate()
    return list(
        ComplaintReview.objects.exclude(action_status=ActionStatus.DONE)
        .filter(action_due__lt=today)
        .select_related("complaint__ticket", "action_owner", "root_cause")
        .order_by("action_due", "pk")[:limit]
    )


def overdue_action_count(*, now: datetime | None = None) -> int:
    today = timezone.localdate(now) if now is not None else timezone.localdate()
    return (
        ComplaintReview.objects.exclude(action_status=ActionStatus.DONE)
        .filter(action_due__lt=today)
        .count()
    )


def suggestion_counts() -> dict[str, int]:
    """Suggestions per status (every status present, zero when none); "done" is the count of
    customers' ideas that were acted on."""
    counts = dict.fromkeys(SuggestionStatus.values, 0)
    for row in Suggestion.objects.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts
