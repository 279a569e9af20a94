"""The steps of an after-sales case, as data.

Each case type has one `Flow`: the steps it goes through in order, which step may follow
which, and how long each step is expected to take in business minutes (the time from
entering the step to leaving it; the SLA engine and the case pages read it). The services
in `aftersales.services.progress` consult only this table: a type's behaviour changes here,
not in code branches.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseType(models.TextChoices):
    RETURN_REFUND = "return_refund", _("Return and refund")
    REFUND_ONLY = "refund_only", _("Refund only")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    RESHIP = "reship", _("Reship")


class Step(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WAITING_FOR_RETURN = "waiting_for_return", _("Waiting for the return")
    RETURN_SHIPPED = "return_shipped", _("Return sent back")
    RECEIVED = "received", _("Goods received")
    INSPECTED = "inspected", _("Inspection passed")
    INSPECTION_FAILED = "inspection_failed", _("Inspection failed")
    REFUNDED = "refunded", _("Refunded")
    REPLACEMENT_SHIPPED = "replacement_shipped", _("Replacement shipped")
    REPAIRED = "repaired", _("Repaired")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# A case in one of these steps is over: it claims nothing more and may not move again.
FINAL_STEPS = frozenset({Step.COMPLETED, Step.CANCELLED, Step.REJECTED})
# Steps of a case that is over without having given anything back: its items and amount are
# free again for another case.
VOID_STEPS = frozenset({Step.CANCELLED, Step.REJECTED})


@dataclass(frozen=True)
class Flow:
    """One case type's steps. `steps` is the order shown to people (the happy path first,
    then the side exits); `transitions` says which steps may follow each step; `minutes` is
    the expected business time spent in each non-final step."""

    steps: tuple[Step, ...]
    transitions: dict[Step, frozenset[Step]]
    minutes: dict[Step, int]

    def allows(self, current: str, following: Step) -> bool:
        return following in self.transitions.get(Step(current), frozenset())

    def leads_to(self, current: str, later: Step) -> bool:
        """Whether the case can still get to `later` from `current`, in one step or more."""
        seen: set[Step] = set()
        frontier = set(self.transitions.get(Step(current), frozenset()))
        while frontier:
            if later in frontier:
                return True
            seen |= frontier
            frontier = {
                following
                for step in frontier
                for following in self.transitions.get(step, frozenset())
            } - seen
        return False

    @property
    def approved_step(self) -> Step:
        """Where an approved case goes: waiting for the goods when the type takes them back,
        else straight to `approved`."""
        targets = self.transitions[Step.SUBMITTED]
        return Step.WAITING_FOR_RETURN if Step.WAITING_FOR_RETURN in targets else Step.APPROVED

    @property
    def takes_goods_back(self) -> bool:
        return Step.WAITING_FOR_RETURN in self.steps


_HOUR = 60
_DAY = 8 * _HOUR  # a business day


def _return_flow(after_inspection: Step, minutes_after: int) -> Flow:
    """The flows where the customer sends the goods back first: return and refund,
    exchange, repair. They differ in what follows a passed inspection."""
    return Flow(
        steps=(
            Step.SUBMITTED,
            Step.WAITING_FOR_RETURN,
            Step.RETURN_SHIPPED,
            Step.RECEIVED,
            Step.INSPECTED,
            after_inspection,
            Step.COMPLETED,
            Step.INSPECTION_FAILED,
            Step.REJECTED,
            Step.CANCELLED,
        ),
        transitions={
            Step.SUBMITTED: frozenset({Step.WAITING_FOR_RETURN, Step.REJECTED, Step.CANCELLED}),
            Step.WAITING_FOR_RETURN: frozenset(
                {Step.RETURN_SHIPPED, Step.RECEIVED, Step.CANCELLED}
            ),
            Step.RETURN_SHIPPED: frozenset({Step.RECEIVED, Step.CANCELLED}),
            Step.RECEIVED: frozenset({Step.INSPECTED, Step.INSPECTION_FAILED}),
            Step.INSPECTED: frozenset({after_inspection}),
            after_inspection: frozenset({Step.COMPLETED}),
            Step.INSPECTION_FAILED: frozenset({Step.COMPLETED}),
        },
        minutes={
            Step.SUBMITTED: 4 * _HOUR,
            Step.WAITING_FOR_RETURN: 3 * _DAY,
            Step.RETURN_SHIPPED: 3 * _DAY,
            Step.RECEIVED: 1 * _DAY,
            Step.INSPECTED: minutes_after,
            after_inspection: 1 * _DAY,
            Step.INSPECTION_FAILED: 1 * _DAY,
        },
    )


FLOWS: dict[CaseType, Flow] = {
    CaseType.RETURN_REFUND: _return_flow(Step.REFUNDED, 1 * _DAY),
    CaseType.EXCHANGE: _return_flow(Step.REPLACEMENT_SHIPPED, 2 * _DAY),
    CaseType.REPAIR: _return_flow(Step.REPAIRED, 7 * _DAY),
    CaseType.REFUND_ONLY: Flow(
        steps=(
            Step.SUBMITTED,
            Step.APPROVED,
            Step.REFUNDED,
            Step.COMPLETED,
            Step.REJECTED,
            Step.CANCELLED,
        ),
        transitions={
            Step.SUBMITTED: frozenset({Step.APPROVED, Step.REJECTED, Step.CANCELLED}),
            Step.APPROVED: frozenset({Step.REFUNDED, Step.CANCELLED}),
            Step.REFUNDED: frozenset({Step.COMPLETED}),
        },
        minutes={Step.SUBMITTED: 2 * _HOUR, Step.APPROVED: 1 * _DAY, Step.REFUNDED: 1 * _DAY},
    ),
    CaseType.RESHIP: Flow(
        steps=(
            Step.SUBMITTED,
            Step.APPROVED,
            Step.REPLACEMENT_SHIPPED,
            Step.COMPLETED,
            Step.REJECTED,
            Step.CANCELLED,
        ),
        transitions={
            Step.SUBMITTED: frozenset({Step.APPROVED, Step.REJECTED, Step.CANCELLED}),
            Step.APPROVED: frozenset({Step.REPLACEMENT_SHIPPED, Step.CANCELLED}),
            Step.REPLACEMENT_SHIPPED: frozenset({Step.COMPLETED}),
        },
        minutes={
            Step.SUBMITTED: 2 * _HOUR,
            Step.APPROVED: 1 * _DAY,
            Step.REPLACEMENT_SHIPPED: 3 * _DAY,
        },
    ),
}

# Types whose case asks for money back; the others ask for goods or work, with no amount.
REFUND_TYPES = frozenset(t for t, flow in FLOWS.items() if Step.REFUNDED in flow.steps)


def flow_of(case_type: str) -> Flow:
    return FLOWS[CaseType(case_type)]


def expected_minutes(case_type: str, step: str) -> int | None:
    """Business minutes a case of this type is expected to stay in `step` (None: final)."""
    return flow_of(case_type).minutes.get(Step(step))
