"""A stored PBX event, taken into the core as a call event."""

import logging

from channels_ingest.models import InboundRecord, Pbx
from channels_ingest.phone.payload import PayloadError, PhoneEvent, parse_event
from channels_ingest.phone.services import is_blocked, team_for_queue
from channels_ingest.pipeline.adapter import Refused
from tickets.models import CallDirection
from tickets.services.calls import CallEvent, call_event
from tickets.services.intake import IntakeResult

logger = logging.getLogger("kefu.ingest.phone")


class PhoneRefused(Refused):
    """A stored event that cannot be read (the contract changed since it was stored)."""


def provider_id_for(event: PhoneEvent) -> str:
    # One record per event of a call: a redelivered event finds its record and is a no-op.
    return f"{event.call_id}:{event.event}"


def phone_process(record: InboundRecord) -> IntakeResult | None:
    """Merge the event into its call. Returns the missed-call intake when this event made a
    call-back ticket message; calls from blocked numbers are kept in the log only."""
    try:
        event = parse_event(record.payload)
    except PayloadError as error:
        raise PhoneRefused(str(error)) from error
    if event.direction != CallDirection.OUT and is_blocked(event.from_number):
        logger.info("call %s from a blocked number: not taken in", event.call_id)
        return None
    pbx = Pbx.objects.select_related("default_team").filter(name=record.source).first()
    result = call_event(
        event=CallEvent(
            kind=event.event,
            call_id=event.call_id,
            # Without a timestamp from the PBX, the time we received the event.
            at=event.timestamp or record.received_at,
            direction=event.direction,
            from_number=event.from_number,
            to_number=event.to_number,
            queue=event.queue,
            team=team_for_queue(pbx=pbx, queue=event.queue),
            users=event.users,
            answering_number=event.answering_number,
            cause=event.cause,
            duration=event.duration,
            recording_url=event.recording_url,
            voicemail_url=event.voicemail_url,
        )
    )
    return result.missed_call
