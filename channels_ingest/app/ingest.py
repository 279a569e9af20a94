"""A stored app message, taken into the core; and the ticket promised to it before that, when
intake is queued (ADR 0003)."""

from channels_ingest.app.normalise import app_inbound
from channels_ingest.models import InboundRecord
from tickets.services.acknowledgement import ticket_acknowledge_opened
from tickets.services.intake import IntakeResult, intake_message
from tickets.services.promise import ticket_promise


def app_process(record: InboundRecord) -> IntakeResult:
    result = intake_message(inbound=app_inbound(record))
    if result.created and result.ticket_opened:
        ticket_acknowledge_opened(ticket=result.ticket)
    return result


def app_promise(record: InboundRecord) -> str:
    """The ticket the message will go into (the sender's open app ticket, or one reserved for
    them). Raises ValidationError when the message names no usable identity."""
    return ticket_promise(inbound=app_inbound(record))
