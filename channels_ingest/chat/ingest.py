"""A stored widget frame, taken into the core."""

from channels_ingest.chat.normalise import chat_inbound
from channels_ingest.models import InboundRecord
from tickets.services.acknowledgement import ticket_acknowledge_opened
from tickets.services.intake import IntakeResult, intake_message


def chat_process(record: InboundRecord) -> IntakeResult:
    result = intake_message(inbound=chat_inbound(record))
    if result.created and result.ticket_opened:
        ticket_acknowledge_opened(ticket=result.ticket)
    return result
