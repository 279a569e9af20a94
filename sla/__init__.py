"""The deadline engine: business calendars, SLA policies and clocks, timers.

`sla` knows nothing of tickets or channels. It keeps clocks keyed by a subject id and tells
the core about warnings and breaches through the `sla.signals.clock_fired` signal.
"""
