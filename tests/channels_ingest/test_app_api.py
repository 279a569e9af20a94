import pytest
from rest_framework.test import APIClient

from channels_ingest.models import InboundRecord, InboundState
from tests.support.environment import requires_redis
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound/app"


@pytest.fixture
def api(token):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def body(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "message_id": "app-1",
        "user_id": "u1001",
        "name": "张伟",
        "phone": "+86 138-0013-8000",
        "email": "zhang.wei@example.com",
        "text": "我的草莓发霉了",
        "sent_at": "2026-11-23T10:15:00+08:00",
    }
    payload.update(overrides)
    return payload


def test_a_new_message_opens_a_ticket_and_answers_201_with_its_number(api, default_team):
    response = api.post(URL, body(), format="json")

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {"ticket_number": ticket.number, "message_id": "app-1"}
    record = InboundRecord.objects.get()
    assert (record.channel, record.provider_id, record.state) == ("app", "app-1", "processed")
    assert record.payload["phone"] == "+86 138-0013-8000"  # as sent; normalised downstream
    assert ticket.customer.identities.get(kind="phone").value == "+8613800138000"
    assert record.ticket_number == ticket.number


def test_the_same_message_id_again_answers_200_with_the_same_ticket(api, default_team):
    first = api.post(URL, body(), format="json")

    again = api.post(URL, body(text="changed on redelivery"), format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    assert InboundRecord.objects.count() == 1


def test_a_bad_token_is_refused_401(default_team):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.post(URL, body(), format="json")

    assert response.status_code == 401
    assert Ticket.objects.count() == 0


def test_a_revoked_token_is_refused_at_once(api, default_team):
    from tickets.models import IntegrationToken

    assert api.post(URL, body(), format="json").status_code == 201
    IntegrationToken.objects.update(is_active=False)  # a bulk update sends no signal
    for token in IntegrationToken.objects.all():
        token.save()  # as the admin does

    response = api.post(URL, body(message_id="app-2"), format="json")

    assert response.status_code == 401


def test_no_token_is_refused_401(default_team):
    response = APIClient().post(URL, body(), format="json")

    assert response.status_code == 401
    assert InboundRecord.objects.count() == 0


def test_a_logged_in_agent_session_cannot_post_as_an_integration(agent_client, default_team):
    response = agent_client.post(URL, body(), content_type="application/json")

    assert response.status_code == 403


def test_a_malformed_body_gets_400_with_field_errors(api, default_team):
    response = api.post(URL, {"user_id": "u1", "phone": "12", "text": ""}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"message_id", "phone", "text"}
    assert InboundRecord.objects.count() == 0


def test_a_message_without_any_identity_gets_400(api, default_team):
    response = api.post(URL, {"message_id": "x", "text": "hi"}, format="json")

    assert response.status_code == 400
    assert "user_id" in response.json()


def test_invalid_json_gets_400_not_500(api, default_team):
    response = api.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_unparseable_sent_at_gets_400(api, default_team):
    response = api.post(URL, body(sent_at="yesterday-ish"), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"sent_at"}


def test_a_payload_stored_but_not_processed_is_taken_in_by_the_sweep(default_team):
    from datetime import timedelta

    from django.utils import timezone

    from channels_ingest.tasks import inbound_sweep

    record = InboundRecord.objects.create(
        channel="app", provider_id="lost-1", payload={"user_id": "u9", "text": "hello"}
    )
    InboundRecord.objects.filter(pk=record.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )

    requeued = inbound_sweep()

    record.refresh_from_db()
    assert requeued == 1
    assert record.state == InboundState.PROCESSED
    assert Ticket.objects.get().number == record.ticket_number


def test_the_sweep_waits_while_the_queue_has_a_backlog(default_team, monkeypatch):
    # Under a backlog, records waiting in the queue look stale; re-queueing them would
    # double the work. Once the workers have caught up the sweep takes them.
    from datetime import timedelta

    from django.utils import timezone

    from channels_ingest import tasks

    record = InboundRecord.objects.create(
        channel="app", provider_id="late-1", payload={"user_id": "u9", "text": "hello"}
    )
    InboundRecord.objects.filter(pk=record.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    monkeypatch.setattr(tasks, "_queue_backlog", lambda: 40)

    assert tasks.inbound_sweep() == 0
    assert InboundRecord.objects.get(pk=record.pk).state == InboundState.RECEIVED

    # The periodic sweeps beat queued beside this one are no backlog.
    monkeypatch.setattr(tasks, "_queue_backlog", lambda: 3)

    assert tasks.inbound_sweep() == 1
    assert InboundRecord.objects.get(pk=record.pk).state == InboundState.PROCESSED


@requires_redis
def test_the_backlog_is_read_from_the_broker(settings):
    from celery import current_app

    from channels_ingest.tasks import _queue_backlog

    queue = current_app.conf.task_default_queue
    with current_app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete(queue)
        assert _queue_backlog() == 0
        client.lpush(queue, b"{}", b"{}")
        try:
            assert _queue_backlog() == 2
        finally:
            client.delete(queue)


def test_the_openapi_schema_describes_the_inbound_endpoint(client):
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/inbound/app" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/inbound/app"]


def test_a_crash_while_taking_in_still_stores_the_message_and_a_retry_takes_it_in(
    api, default_team, monkeypatch
):
    from channels_ingest.app import ingest
    from channels_ingest.tasks import process_inbound

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away mid-intake")

    monkeypatch.setattr(ingest, "intake_message", broken)

    response = api.post(URL, body(message_id="crash-1"), format="json")

    record = InboundRecord.objects.get(provider_id="crash-1")
    assert response.status_code == 202
    assert response.json() == {"message_id": "crash-1", "ticket_number": None}
    assert record.state == InboundState.RECEIVED
    assert Ticket.objects.count() == 0

    monkeypatch.undo()
    process_inbound(record.pk)

    record.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    assert Ticket.objects.get().number == record.ticket_number
    again = api.post(URL, body(message_id="crash-1"), format="json")
    assert (again.status_code, again.json()["ticket_number"]) == (200, record.ticket_number)


def test_the_dead_letter_page_lists_failed_and_stuck_records_and_retries_them(client, default_team):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import UserFactory

    failed = InboundRecord.objects.create(
        channel="app",
        provider_id="dead-1",
        payload={"user_id": "u1", "text": "hello"},
        state=InboundState.FAILED,
        error="no usable identity",
    )
    stuck = InboundRecord.objects.create(
        channel="app", provider_id="stuck-1", payload={"user_id": "u2", "text": "hi"}
    )
    InboundRecord.objects.filter(pk=stuck.pk).update(
        received_at=timezone.now() - timedelta(hours=1)
    )
    InboundRecord.objects.create(
        channel="app", provider_id="fresh-1", payload={"user_id": "u3", "text": "hi"}
    )
    InboundRecord.objects.create(
        channel="app", provider_id="done-1", payload={}, state=InboundState.PROCESSED
    )
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    page = client.get("/admin/channels_ingest/deadletter/")

    assert page.status_code == 200
    listed = {r.provider_id for r in page.context["cl"].result_list}
    assert listed == {"dead-1", "stuck-1"}

    client.post(
        "/admin/channels_ingest/deadletter/",
        {"action": "retry", "_selected_action": [failed.pk, stuck.pk]},
    )

    # The payloads are good now (e.g. the rule that refused them was fixed): both taken in.
    assert set(
        InboundRecord.objects.filter(pk__in=[failed.pk, stuck.pk]).values_list("state", flat=True)
    ) == {InboundState.PROCESSED}
    assert Ticket.objects.count() == 2
