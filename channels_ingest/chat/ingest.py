"""A stored widget frame, taken into the core."""

from channels_ingest.chat.normalise import chat_inbound
from channels_ingest.models import InboundRecord
from tickets.services.intake import IntakeResult, intake_message


def chat_process(record: InboundRecord) -> IntakeResult:
    return intake_message(inbound=chat_inbound(record))
