"""Which channel is taken in how: one adapter per channel, each built from the `process` of
the channel's own package (`<channel>/ingest.py`)."""

from channels_ingest.app.ingest import app_process, app_promise
from channels_ingest.chat.ingest import chat_process
from channels_ingest.email.ingest import email_process
from channels_ingest.logistics.ingest import CHANNEL as LOGISTICS
from channels_ingest.logistics.ingest import logistics_process
from channels_ingest.phone.ingest import phone_process
from channels_ingest.pipeline.adapter import ChannelAdapter
from channels_ingest.sms.ingest import sms_process, sms_process_many
from tickets.models import Channel

ADAPTERS: dict[str, ChannelAdapter] = {
    # The app's answer promises the ticket number; a worker keeps the promise (ADR 0003).
    Channel.APP.value: ChannelAdapter(process=app_process, may_queue=True, promise=app_promise),
    # The widget shows the message as taken in, with its ticket, in its acknowledgement.
    Channel.CHAT.value: ChannelAdapter(process=chat_process),
    # The webhook answers with the ticket number; the IMAP poller moves the mail once taken in.
    Channel.EMAIL.value: ChannelAdapter(process=email_process, stores_first=True),
    # A call event pops the agent's screen while the phone rings: not worth a queue's delay.
    Channel.PHONE.value: ChannelAdapter(process=phone_process),
    # Providers only need to hear that the SMS is stored (TwiML, JSON).
    Channel.SMS.value: ChannelAdapter(
        process=sms_process, may_queue=True, process_many=sms_process_many
    ),
    # Carriers only need to hear that their events are stored.
    LOGISTICS: ChannelAdapter(process=logistics_process, may_queue=True),
}


def adapter_for(channel: str) -> ChannelAdapter | None:
    return ADAPTERS.get(channel)
