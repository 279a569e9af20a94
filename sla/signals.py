"""The engine-to-core hook.

`clock_fired` is sent once per warning and once per breach, inside the transaction that
claimed it (so a crash before commit un-claims it and the next tick fires it again). Receivers
get `clock` (an `SlaClock`) and `kind` ("warning" or "breach"). `tickets` is the one receiver;
it is the single signal Kefu uses for workflow (see STYLE.md rule 9).
"""

from django.dispatch import Signal

clock_fired = Signal()
