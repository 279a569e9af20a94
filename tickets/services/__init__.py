"""Every write of the core goes through a function in this package, one module per job:

- `intake`: where an inbound message becomes a ticket (or joins one).
- `promise`: the ticket number promised to a queued inbound message before intake.
- `customers`: who a sender is; merges, adoption, revealing contact details.
- `workflow`: what agents do to a ticket (reply, note, status of one or many, plan, tier,
  assign, typing).
- `delivery`: outbound messages and what became of them.
- `acknowledgement`: the ticket number a customer gets when their message opens a ticket.
- `sla_clocks`: a ticket's SLA clocks following its status, and its SLA summary.
- `escalation`: where an SLA warning, breach or escalation level lands on a ticket.
- `assignment`: who of a team gets a new ticket (online, on shift, under capacity, skilled,
  round robin), and waiting tickets given out when someone can take them.
- `presence`: agents' status (online, busy, away, offline) following their pages and input.
- `notifications`: notices to agents and supervisors.
- `alerts`: a user's alert settings; the notice of a ticket someone else assigned.
- `reply_guard`: a reply refused while messages its writer has not seen arrived.
- `bot`, `bot_followup`: the answer bot's turn, and answers nobody replied to.
- `orders`: order numbers customers write, linked to their owners.
- `calls`: phone calls from the PBX: screen pops, missed calls, the timeline.
- `portal`: customer self-service (one-time codes, writing from the status page).
- `tokens`: integration tokens.
- `trail`: the ticket's event trail and who is told live of a change.
- `audit`: the audit log.
- `privacy`: a customer's data exported as one archive, or erased on request.
- `retention`: personal data deleted or anonymised after its period.
- `actions`: acting on a ticket: transfer with a note, category, tags, custom fields, links,
  asking another team for access, closing spam.
- `merging`: tickets of one customer merged (and undone within a day), messages split off;
  the survivor that intake threads a merged ticket's replies into.
- `manual`: tickets an agent opens by hand (an answered call, a store visit), through intake.

Side effects (Celery tasks, websocket events, outbound delivery) are registered with
`transaction.on_commit`, so nothing leaves the process for a write that rolled back. Callers
import the module they need (`from tickets.services.workflow import ticket_reply`); this
package re-exports nothing.
"""
