"""What every recorded step brings with it, inside the step's transaction: the clock of
the case's new step (`clocks`), the change owed to the shop's webhook (`webhook`), and the
shop's events that were waiting for the case to move (`event_inbox`)."""

from collections.abc import Sequence

from aftersales.models import Case, CaseStep
from aftersales.services.clocks import StepMove, step_clocks_follow
from aftersales.services.webhook import webhooks_enqueue
from aftersales.steps import Step


def steps_effects(steps: Sequence[tuple[Case, CaseStep]]) -> None:
    """Called by `history.steps_record` for each round of steps (one per case), once the
    cases are at them: each step gets its own clock and its own delivery, in order, and
    the whole round takes a few statements."""
    step_clocks_follow(
        [StepMove(case=case, step=Step(row.step), step_id=row.pk, at=row.at) for case, row in steps]
    )
    webhooks_enqueue(steps)
    # Imported here: the inbox applies events through the step services, which end here.
    from aftersales.services.event_inbox import events_wake_many

    events_wake_many(cases=[case for case, _row in steps])
