"""The engine-to-core hook.

`clock_fired` is sent once per warning and once per breach, inside the transaction that
claimed it (so a crash before commit un-claims it and the next tick fires it again).
Receivers get `clock` (an `SlaClock`), `kind` ("warning", "breach" or "escalation"), `rule`
(the `EscalationRule` of an escalation, else None) and `at` (the tick's time). `tickets` is
the one receiver; it is the single signal Kefu uses for workflow (see docs/sla.md).
"""

from django.dispatch import Signal

clock_fired = Signal()
