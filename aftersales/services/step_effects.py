"""What every recorded step brings with it, inside the step's transaction: the clock of
the case's new step (`clocks`), the change owed to the shop's webhook (`webhook`), and the
shop's events that were waiting for the case to move (`event_inbox`)."""

from aftersales.models import Case, CaseStep
from aftersales.services.clocks import step_clock_follow
from aftersales.services.webhook import webhook_enqueue
from aftersales.steps import Step


def step_effects(*, case: Case, row: CaseStep) -> None:
    """Called by `history.step_record` for each step, once the case is at it. Some
    services record two steps in one transaction (received, then inspected); each gets its
    own clock and its own delivery, in order."""
    step_clock_follow(case=case, step=Step(row.step), step_id=row.pk, at=row.at)
    webhook_enqueue(case=case, row=row)
    # Imported here: the inbox applies events through the step services, which end here.
    from aftersales.services.event_inbox import events_wake

    events_wake(case=case)
