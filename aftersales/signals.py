"""The one signal of after-sales: `case_changed`, sent after the transaction that moved a
case to a new step has committed (never for a refused step, never twice for a redelivered
event). Customer notices and the outbound webhook hang on it; the case's own workflow never
does (each service calls the next thing explicitly).

Receivers get `case_id`, `case_number`, `step` (a `aftersales.steps.Step` value) and
`step_id` (the `CaseStep` row) as keyword arguments, with `sender=Case`.
"""

from django.dispatch import Signal

case_changed = Signal()
