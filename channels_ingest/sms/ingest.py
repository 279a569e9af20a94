"""A stored SMS, taken into the core: opt-out and opt-in keywords are honoured and open no
ticket; anything else is a customer message."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from channels_ingest.models import InboundRecord
from channels_ingest.pipeline.adapter import Refused
from channels_ingest.sms.normalise import sms_inbound
from channels_ingest.sms.services import sms_opt_in, sms_opt_out
from tickets.identity import normalise_phone
from tickets.services.acknowledgement import ticket_acknowledge_opened
from tickets.services.intake import IntakeResult, intake_claimed_many, intake_message

STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "td", "退订", "取消订阅"}
START_WORDS = {"start", "unstop", "subscribe", "订阅"}


def keyword_of(body: str) -> str:
    return body.strip().strip("。.!！").casefold()


def sms_process(record: InboundRecord) -> IntakeResult | None:
    """Opt the sender out (STOP, TD, 退订, …) or back in (START, 订阅) and return None, or take
    the SMS in as a customer message. Raises Refused for a keyword from something that is
    not a phone number."""
    word = keyword_of(str(record.payload.get("Body", "")))
    if word in STOP_WORDS | START_WORDS:
        try:
            phone = normalise_phone(str(record.payload.get("From", "")))
        except ValidationError as error:
            raise Refused("; ".join(error.messages)) from error
        if word in STOP_WORDS:
            sms_opt_out(phone=phone, keyword=word)
        else:
            sms_opt_in(phone=phone)
        return None
    result = intake_message(inbound=sms_inbound(record))
    if result.created and result.ticket_opened:
        ticket_acknowledge_opened(ticket=result.ticket)
    return result


def sms_process_many(records: Sequence[InboundRecord]) -> dict[int, IntakeResult]:
    """Of a drain's batch, the SMS an app was waiting for (a digit answering a survey), taken
    in together (`intake_claimed_many`); the results by record pk. Keywords and everything
    else are left for `sms_process`."""
    asked = [
        record
        for record in records
        if keyword_of(str(record.payload.get("Body", ""))) not in STOP_WORDS | START_WORDS
    ]
    results = intake_claimed_many(inbounds=[sms_inbound(record) for record in asked])
    return {asked[index].pk: result for index, result in results.items()}
