"""Replies under faults: a worker SIGKILLed mid-burst, the broker killed and started empty,
two beats sweeping at once. Real Celery workers (tests/sla/workers.py) on the test database,
with a private Redis (tests/faults/services.py) that the tests may kill.

After each fault every reply must be sent, and sent once, except that a send the killed
worker was in the middle of may go out a second time with the same reference (the outbox's
promise, docs/reliability.md): the tests count and print those copies.
"""

from collections import Counter
from collections.abc import Iterator

import pytest
from celery import Celery
from django.db import connection

from channels_ingest.models import OutboxEntry
from tests.factories import intake
from tests.faults.services import PrivateRedis, fault_marks
from tests.sla.workers import WorkerPool, wait_until
from tickets import tasks
from tickets.models import DeliveryStatus, Direction, Message
from tickets.services.workflow import ticket_reply

pytestmark = fault_marks("the worker processes share the test database")

REPLIES = 20


@pytest.fixture
def broker(tmp_path) -> Iterator[PrivateRedis]:  # type: ignore[no-untyped-def]
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workers(tmp_path, broker) -> Iterator[WorkerPool]:  # type: ignore[no-untyped-def]
    pool = WorkerPool(database=connection.settings_dict, redis_url=broker.url, directory=tmp_path)
    pool.env.update(
        {
            "DELIVERY_BACKEND_APP": "tests.faults.backends.SlowOutboxBackend",
            "FAULT_SEND_SECONDS": "0.3",
            "OUTBOX_LEASE_SECONDS": "3",
            "OUTBOX_SWEEP_SECONDS": "1",
            "SLA_TICK_SECONDS": "3600",
            "INBOUND_QUEUED": "false",
        }
    )
    try:
        yield pool
    finally:
        pool.stop_all()
        print(pool.logs())


@pytest.fixture
def queue_to(monkeypatch):  # type: ignore[no-untyped-def]
    """Replies made in this process are queued on the workers' broker (not run eagerly)."""

    def route(pool: WorkerPool, *, queued: bool = True) -> None:
        client = Celery("kefu-fault-tests", broker=pool.broker, set_as_current=False)

        def delay(message_id: int) -> None:
            if queued:
                client.send_task("tickets.tasks.deliver_message", args=[message_id])

        monkeypatch.setattr(tasks.deliver_message, "delay", delay)

    return route


def _replies(agent, count: int = REPLIES) -> list[int]:  # type: ignore[no-untyped-def]
    tickets = [intake(user_id=f"fault-{n}", text=f"问题 {n}").ticket for n in range(count)]
    return [
        ticket_reply(ticket=ticket, author=agent, body=f"回复 {ticket.number}").pk
        for ticket in tickets
    ]


def _all_sent(ids: list[int]) -> bool:
    return Message.objects.filter(pk__in=ids, delivery_status=DeliveryStatus.SENT).count() == len(
        ids
    )


def _sends(ids: list[int]) -> Counter[str]:
    references = {f"kefu-{pk}" for pk in ids}
    return Counter(
        entry.reference for entry in OutboxEntry.objects.all() if entry.reference in references
    )


def _report(name: str, ids: list[int]) -> int:
    sends = _sends(ids)
    copies = sum(count - 1 for count in sends.values())
    print(f"FAULT {name}: {len(ids)} replies, {len(sends)} sent, {copies} sent twice")
    assert set(sends) == {f"kefu-{pk}" for pk in ids}, "a reply was never sent"
    assert Message.objects.filter(pk__in=ids, direction=Direction.OUT).count() == len(ids)
    return copies


def test_a_worker_killed_in_the_middle_of_sending_loses_no_reply(agent, workers, queue_to):
    queue_to(workers)
    first = workers.start("first", beat=False)
    first.wait_ready()
    ids = _replies(agent)

    assert wait_until(lambda: OutboxEntry.objects.count() >= 4, timeout=60), workers.logs()
    first.kill()
    sent_before_the_kill = OutboxEntry.objects.count()
    assert sent_before_the_kill < REPLIES  # the kill came in the middle of the burst

    workers.start("second", beat=True).wait_ready()
    assert wait_until(lambda: _all_sent(ids), timeout=90), workers.logs()

    # At most the one send the worker was inside when it died goes out twice.
    assert _report("worker SIGKILL during delivery", ids) <= 1


def test_the_broker_killed_and_restarted_empty_loses_no_reply(agent, workers, broker, queue_to):
    queue_to(workers)
    worker = workers.start("worker", beat=True)
    worker.wait_ready()
    ids = _replies(agent)

    assert wait_until(lambda: OutboxEntry.objects.count() >= 4, timeout=60), workers.logs()
    broker.kill()  # the queued tasks are gone with it
    broker.start()

    assert wait_until(lambda: _all_sent(ids), timeout=120), workers.logs()
    assert _report("Redis killed and restarted during delivery", ids) == 0


def test_two_beats_sweeping_at_once_send_each_reply_once(agent, workers, queue_to):
    # No task is queued by the request: every reply reaches a worker through a sweep, and
    # both workers' beats sweep every second.
    queue_to(workers, queued=False)
    for name in ("one", "two"):
        workers.start(name, beat=True).wait_ready()
    ids = _replies(agent)

    assert wait_until(lambda: _all_sent(ids), timeout=120), workers.logs()
    assert _report("beat running twice", ids) == 0
