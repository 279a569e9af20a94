"""The signals of after-sales.

`case_changed` is sent after the transaction that moved a case to a new step has committed
(never for a refused step, never twice for a redelivered event). Customer notices and the
outbound webhook hang on it; the case's own workflow never does (each service calls the next
thing explicitly). Receivers get `case_id`, `case_number`, `step` (a `aftersales.steps.Step`
value) and `step_id` (the `CaseStep` row) as keyword arguments, with `sender=Case`.

`case_steps_recorded` is sent by `aftersales.services.history` *inside* the transaction that
records steps, once per round of steps (one step per case), with `case_ids`: whatever a
receiver writes (analytics marking the cases' figures due a refresh) commits or rolls back
with the steps themselves. Receivers must be quick: one statement for the round.
"""

from django.dispatch import Signal

case_changed = Signal()
case_steps_recorded = Signal()
