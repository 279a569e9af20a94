"""A delivery backend for the fault suite: the outbox backend, slowed down so that a worker
can be killed in the middle of a burst of sends."""

import os
import time

from channels_ingest.outbox import OutboxBackend
from tickets.delivery import DeliveryResult, Outbound


class SlowOutboxBackend(OutboxBackend):
    def send(self, outbound: Outbound) -> DeliveryResult:
        time.sleep(float(os.environ.get("FAULT_SEND_SECONDS", "0.2")))
        return super().send(outbound)
