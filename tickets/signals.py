"""Signals of the core that apps above it listen to.

`ticket_event_recorded` is sent by `tickets.services.trail.event_record` for every entry of
a ticket's trail (opened, customer wrote, replied, status changed, …), *inside* the
transaction that records it, with `event` (the `TicketEvent`, its ticket loaded). A receiver
that writes (a customer notice queued on the outbox) therefore commits or rolls back with the
change itself: nothing is owed that was not done, nothing done is lost. Receivers must be
quick and must not call out of the process; work that does is queued after the commit.

`events_record` records many entries at once: it sends `ticket_event_recorded` for each with
`batch=True`, then `ticket_events_recorded` once with all of them (`events`), so a receiver
that can do its part for the whole batch in one statement leaves the entries marked as a
batch to the second signal. A status change always comes as a batch (`tickets_set_status`,
one ticket or many): the survey scheduling (feedback), the status notice (after-sales) and
the facts' marking (analytics) take the batch.
"""

from django.dispatch import Signal

# Sent for every trail entry, 500 at a time in a batch: the receivers are looked up once
# per sender, not on every send (a connect or disconnect clears what was kept).
ticket_event_recorded = Signal(use_caching=True)
ticket_events_recorded = Signal(use_caching=True)
