"""Inbound app messages under a worker SIGKILL: queued intake (the API stores the message and
promises its ticket number; a worker takes it in), with the worker killed in the middle of
a backlog and another one started. Every message must end up on exactly one ticket message,
on the ticket number the API promised.
"""

from collections.abc import Iterator

import pytest
import redis
from celery import Celery
from django.db import connection
from rest_framework.test import APIClient

from channels_ingest import tasks as ingest_tasks
from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.pipeline import doorbell
from tests.faults.services import (
    PrivateRedis,
    fault_marks,
    postgres_cluster,
    postgres_restart_fast,
)
from tests.sla.workers import WorkerPool, wait_until
from tickets.models import Direction, Message

pytestmark = fault_marks("queued intake and the workers share it")

MESSAGES = 150


@pytest.fixture
def workers(tmp_path) -> Iterator[WorkerPool]:  # type: ignore[no-untyped-def]
    broker = PrivateRedis(tmp_path)
    broker.start()
    pool = WorkerPool(database=connection.settings_dict, redis_url=broker.url, directory=tmp_path)
    pool.env.update(
        {
            "INBOUND_QUEUED": "true",
            "INBOUND_STALE_SECONDS": "1",
            "INBOUND_SWEEP_SECONDS": "1",
            "OUTBOX_SWEEP_SECONDS": "1",
            "SLA_TICK_SECONDS": "3600",
        }
    )
    try:
        yield pool
    finally:
        pool.stop_all()
        broker.stop()
        print(pool.logs())


@pytest.fixture
def api(token, settings, workers, monkeypatch):  # type: ignore[no-untyped-def]
    """The API in this process, ringing the workers' broker and doorbell."""
    settings.INBOUND_QUEUED = True
    bell = redis.Redis.from_url(workers.broker)
    monkeypatch.setattr(doorbell, "_bell_redis", lambda: bell)
    # Not the current app: tests after these would send their tasks to this broker.
    celery = Celery("kefu-fault-tests", broker=workers.broker, set_as_current=False)
    monkeypatch.setattr(
        ingest_tasks.inbound_drain_task,
        "delay",
        lambda channel: celery.send_task("channels_ingest.tasks.inbound_drain", args=[channel]),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    yield client
    bell.close()


def _backlog(api, prefix: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """MESSAGES app messages from 60 customers, stored and promised, none taken in yet:
    each message id with the ticket number the API promised it."""
    promised = {}
    for n in range(MESSAGES):
        message_id = f"{prefix}-{n}"
        response = api.post(
            "/api/v1/inbound/app",
            {"message_id": message_id, "user_id": f"{prefix}-u{n % 60}", "text": f"订单 {n} 没到"},
            format="json",
        )
        assert response.status_code in (200, 201, 202), response.content
        promised[message_id] = response.json()["ticket_number"]
    return promised


def _processed() -> int:
    return InboundRecord.objects.filter(channel="app", state=InboundState.PROCESSED).count()


def test_a_worker_killed_in_the_middle_of_a_backlog_loses_and_doubles_no_message(api, workers):
    promised = _backlog(api, "fault-in")

    first = workers.start("first", beat=False)
    first.wait_ready()
    assert wait_until(lambda: _processed() >= 20, timeout=60), workers.logs()
    first.kill()
    taken_before_the_kill = _processed()
    assert taken_before_the_kill < MESSAGES  # the kill came in the middle of the backlog

    workers.start("second", beat=True).wait_ready()
    assert wait_until(lambda: _processed() == MESSAGES, timeout=120), workers.logs()

    stored = Message.objects.filter(direction=Direction.IN, provider_id__startswith="fault-in-")
    by_id = {message.provider_id: message.ticket.number for message in stored}
    print(
        f"FAULT worker SIGKILL during inbound processing: {MESSAGES} messages, "
        f"{taken_before_the_kill} taken in before the kill, {len(by_id)} stored, "
        f"{stored.count() - len(by_id)} doubled"
    )
    assert stored.count() == MESSAGES  # nothing doubled
    assert by_id == promised  # nothing lost, each on the ticket the API promised


@pytest.mark.skipif(
    postgres_cluster() is None, reason="needs root and pg_ctlcluster to restart PostgreSQL"
)
def test_postgresql_restarted_in_the_middle_of_a_backlog_loses_and_doubles_no_message(api, workers):
    promised = _backlog(api, "fault-pg")
    workers.start("worker", beat=True).wait_ready()
    assert wait_until(lambda: _processed() >= 20, timeout=60), workers.logs()

    taken_before_the_restart = _processed()
    connection.close()
    postgres_restart_fast(postgres_cluster())  # type: ignore[arg-type]

    assert wait_until(lambda: _processed() == MESSAGES, timeout=180), workers.logs()
    stored = Message.objects.filter(direction=Direction.IN, provider_id__startswith="fault-pg-")
    by_id = {message.provider_id: message.ticket.number for message in stored}
    print(
        f"FAULT PostgreSQL restarted (fast) during inbound processing: {MESSAGES} messages, "
        f"{taken_before_the_restart} taken in before the restart, {len(by_id)} stored, "
        f"{stored.count() - len(by_id)} doubled"
    )
    assert stored.count() == MESSAGES
    assert by_id == promised
    # The bot's decisions that the restart interrupted are owed still, and the outbox
    # sweep sees them done.
    assert wait_until(lambda: not stored.filter(bot_due_at__isnull=False).exists(), timeout=60)
