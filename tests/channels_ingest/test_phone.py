"""The CTI webhook: PBX call events over HTTP, as JSON or form posts, with a per-PBX token."""

import json
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from channels_ingest.models import BlockedNumber, InboundRecord, InboundState, Pbx, PbxQueue
from channels_ingest.phone.services import pbx_issue
from tests.factories import TeamFactory, UserFactory, intake
from tickets.models import AuditEntry, Call, Channel, Customer, Ticket
from tickets.services.tokens import token_hash

pytestmark = pytest.mark.django_db

URL = "/webhooks/phone/office/"
CALLER = "+8613800138000"


@pytest.fixture
def pbx_key(default_team) -> str:  # type: ignore[no-untyped-def]
    _pbx, key = pbx_issue(name="office", default_team=None, actor=None)
    return key


def post_json(client: Client, key: str, body: object, url: str = URL):  # type: ignore[no-untyped-def]
    return client.post(
        url,
        data=json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )


def post_form(client: Client, key: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    return client.post(
        URL,
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Token {key}",
    )


def new_call(call_id: str = "c-1", caller: str = CALLER, **extra: object) -> dict[str, object]:
    return {
        "event": "newCall",
        "callId": call_id,
        "from": caller,
        "to": "+861058880000",
        "direction": "in",
        "queue": "support",
        "timestamp": "2025-06-03T10:00:00+08:00",
        **extra,
    }


def test_an_answered_call_flows_from_ringing_to_ended(client, pbx_key, agent):
    customer = intake(phone="13800138000", text="退款").ticket.customer

    ringing = post_json(client, pbx_key, new_call())
    answered = post_json(
        client,
        pbx_key,
        {
            "event": "answer",
            "callId": "c-1",
            "user": agent.user.username,
            "answeringNumber": "+861058880001",
            "timestamp": "2025-06-03T10:00:07+08:00",
        },
    )
    ended = post_json(
        client,
        pbx_key,
        {
            "event": "hangup",
            "callId": "c-1",
            "cause": "normalClearing",
            "duration": 120,
            "recordingUrl": "https://pbx.example/rec/c-1.wav",
            "timestamp": "2025-06-03T10:02:07+08:00",
        },
    )

    assert [r.status_code for r in (ringing, answered, ended)] == [200, 200, 200]
    assert [r.json() for r in (ringing, answered, ended)] == [{}, {}, {}]
    call = Call.objects.get()
    assert (call.call_id, call.state, call.cause, call.duration) == (
        "c-1",
        "ended",
        "normalClearing",
        120,
    )
    assert (call.customer, call.answered_by, call.ticket) == (customer, agent, None)
    assert call.recording_url == "https://pbx.example/rec/c-1.wav"
    assert call.answered_at.isoformat() == "2025-06-03T02:00:07+00:00"
    records = InboundRecord.objects.order_by("pk")
    assert [(r.channel, r.provider_id, r.source, r.state) for r in records] == [
        ("phone", "c-1:newCall", "office", InboundState.PROCESSED),
        ("phone", "c-1:answer", "office", InboundState.PROCESSED),
        ("phone", "c-1:hangup", "office", InboundState.PROCESSED),
    ]
    assert records[0].payload == new_call()
    assert Ticket.objects.count() == 1  # the customer's earlier one only


def test_form_posts_with_list_fields_work_like_json(client, pbx_key, agent):
    post_form(
        client,
        pbx_key,
        [
            ("event", "newCall"),
            ("callId", "f-1"),
            ("from", "13800138000"),
            ("to", "4000"),
            ("direction", "in"),
            ("user[]", "nobody"),
            ("user[]", agent.user.username),
        ],
    )
    response = post_form(
        client,
        pbx_key,
        [
            ("event", "answer"),
            ("callId", "f-1"),
            ("user[]", "nobody"),
            ("user[]", agent.user.username),
        ],
    )

    assert response.status_code == 200
    call = Call.objects.get()
    assert (call.from_number, call.to_number, call.answered_by) == (CALLER, "4000", agent)
    assert InboundRecord.objects.get(provider_id="f-1:answer").payload["user"] == [
        "nobody",
        agent.user.username,
    ]


def test_a_missed_call_opens_a_phone_ticket_named_in_the_inbound_log(client, pbx_key):
    post_json(client, pbx_key, new_call("m-1"))
    response = post_json(client, pbx_key, {"event": "hangup", "callId": "m-1", "cause": "noAnswer"})

    ticket = Ticket.objects.get()
    assert response.status_code == 200
    assert ticket.channel == Channel.PHONE
    assert "+86138****8000" in ticket.messages.get().body
    assert InboundRecord.objects.get(provider_id="m-1:hangup").ticket_number == ticket.number


def test_a_redelivered_event_is_stored_once_and_changes_nothing(client, pbx_key):
    post_json(client, pbx_key, new_call("r-1"))
    hangup = {"event": "hangup", "callId": "r-1", "cause": "busy"}
    first = post_json(client, pbx_key, hangup)
    again = post_json(client, pbx_key, hangup)
    ring_again = post_json(client, pbx_key, new_call("r-1"))

    assert (first.status_code, again.status_code, ring_again.status_code) == (200, 200, 200)
    assert InboundRecord.objects.count() == 2
    assert Call.objects.get().state == "ended"
    assert (Ticket.objects.count(), Ticket.objects.get().messages.count()) == (1, 1)


def test_a_blocked_caller_is_rejected_and_their_call_is_not_taken_in(client, pbx_key):
    BlockedNumber.objects.create(phone=CALLER, note="spam")

    ringing = post_json(client, pbx_key, new_call("b-1", caller="138 0013 8000"))
    again = post_json(client, pbx_key, new_call("b-1", caller="138 0013 8000"))
    ended = post_json(
        client,
        pbx_key,
        {"event": "hangup", "callId": "b-1", "from": CALLER, "direction": "in", "cause": "busy"},
    )

    assert ringing.json() == {"action": "reject", "reason": "blocked"}
    assert again.json() == {"action": "reject", "reason": "blocked"}
    assert ended.json() == {}
    assert InboundRecord.objects.filter(channel="phone").count() == 2  # kept in the log
    assert (Call.objects.count(), Ticket.objects.count(), Customer.objects.count()) == (0, 0, 0)


def test_a_caller_who_is_not_blocked_is_not_rejected(client, pbx_key):
    BlockedNumber.objects.create(phone="+8613900139000")

    assert post_json(client, pbx_key, new_call("b-2")).json() == {}
    assert Call.objects.count() == 1


@pytest.mark.parametrize(
    ("header", "url", "status"),
    [
        (None, URL, 401),
        ("Bearer something", URL, 401),
        ("Token wrong-key", URL, 403),
        ("Token {key}", "/webhooks/phone/other/", 403),  # the key of another PBX
        ("Token {key}", "/webhooks/phone/nosuch/", 403),
    ],
)
def test_a_missing_or_wrong_token_is_refused_logged_and_not_stored(
    client, pbx_key, caplog, header, url, status
):
    pbx_issue(name="other", default_team=None, actor=None)
    headers = {"HTTP_AUTHORIZATION": header.format(key=pbx_key)} if header else {}

    response = client.post(url, json.dumps(new_call()), content_type="application/json", **headers)

    assert response.status_code == status
    assert "error" in response.json()
    assert InboundRecord.objects.count() == 0
    assert "refused phone webhook" in caplog.text


def test_an_inactive_pbx_is_refused(client, pbx_key):
    Pbx.objects.filter(name="office").update(is_active=False)

    assert post_json(client, pbx_key, new_call()).status_code == 403
    assert InboundRecord.objects.count() == 0


def test_the_token_may_be_the_last_part_of_the_url(client, pbx_key):
    response = client.post(
        f"{URL}{pbx_key}/", json.dumps(new_call()), content_type="application/json"
    )
    wrong = client.post(
        f"{URL}not-the-key/", json.dumps(new_call("c-2")), content_type="application/json"
    )

    assert (response.status_code, wrong.status_code) == (200, 403)
    assert Call.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"event": "newCall", "callId": ', "invalid JSON"),
        ("[1, 2]", "must be an object"),
        ({"event": "transfer", "callId": "x"}, "unknown event 'transfer'"),
        ({"callId": "x"}, "event is required"),
        ({"event": "answer"}, "callId is required"),
        ({"event": "answer", "callId": ""}, "callId is required"),
        ({"event": "newCall", "callId": "x", "direction": "in", "to": "1"}, "newCall needs from"),
        (new_call(direction="sideways"), "direction must be in or out"),
        ({"event": "hangup", "callId": "x"}, "hangup needs a cause"),
        ({"event": "hangup", "callId": "x", "cause": "alien"}, "unknown cause 'alien'"),
        ({"event": "hangup", "callId": "x", "cause": "busy", "duration": -3}, "duration"),
        ({"event": "hangup", "callId": "x", "cause": "busy", "duration": "long"}, "duration"),
        (new_call(recordingUrl="javascript:alert(1)"), "recordingUrl must be an http(s) URL"),
        (new_call(timestamp="yesterday"), "timestamp must be ISO 8601"),
        (new_call(queue={"nested": True}), "queue must be a string"),
        (new_call(callId="x" * 201), "callId is longer than 200"),
    ],
)
def test_a_body_that_breaks_the_contract_is_refused_400_and_not_stored(
    client, pbx_key, caplog, body, error
):
    response = post_json(client, pbx_key, body)

    assert response.status_code == 400
    assert error in response.json()["error"]
    assert InboundRecord.objects.count() == 0
    assert "refused phone webhook" in caplog.text


def test_a_body_that_is_neither_json_nor_a_form_is_refused_400(client, pbx_key):
    response = client.post(
        URL, "event=newCall", content_type="text/plain", HTTP_AUTHORIZATION=f"Token {pbx_key}"
    )

    assert response.status_code == 400
    assert "unsupported content type 'text/plain'" in response.json()["error"]


def test_only_post_is_allowed(client, pbx_key):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Token {pbx_key}").status_code == 405


def test_a_unix_timestamp_is_read_as_utc(client, pbx_key):
    post_json(client, pbx_key, new_call(timestamp=1748916000))

    assert Call.objects.get().started_at.isoformat() == "2025-06-03T02:00:00+00:00"


def test_queues_map_to_teams_with_the_pbx_default_and_then_kefus(client, default_team):
    sales, night = TeamFactory(name="sales"), TeamFactory(name="night")
    pbx, key = pbx_issue(name="office", default_team=night, actor=None)
    PbxQueue.objects.create(pbx=pbx, queue="sales", team=sales)
    _bare, bare_key = pbx_issue(name="bare", default_team=None, actor=None)

    post_json(client, key, new_call("q-1", queue="sales"))
    post_json(client, key, new_call("q-2", queue="unmapped"))
    post_json(client, bare_key, new_call("q-3", queue="sales"), url="/webhooks/phone/bare/")

    teams = dict(Call.objects.values_list("call_id", "team__name"))
    assert teams == {"q-1": "sales", "q-2": "night", "q-3": default_team.name}


def test_issue_pbx_token_prints_a_token_that_is_stored_only_as_a_hash(client, default_team):
    out = StringIO()
    call_command("issue_pbx_token", "branch-2", "--team", default_team.name, stdout=out)
    key = out.getvalue().strip()

    pbx = Pbx.objects.get(name="branch-2")
    assert pbx.key_hash == token_hash(key) and key not in (pbx.prefix, pbx.key_hash)
    assert pbx.default_team == default_team
    assert AuditEntry.objects.filter(action="pbx_token_issued", object_id=str(pbx.pk)).exists()
    assert post_json(client, key, new_call(), url="/webhooks/phone/branch-2/").status_code == 200
    with pytest.raises(CommandError, match="exists"):
        call_command("issue_pbx_token", "branch-2", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("issue_pbx_token", "has spaces", stdout=StringIO())


def test_rotating_a_token_stops_the_old_one(client, pbx_key):
    out = StringIO()
    call_command("issue_pbx_token", "office", "--rotate", stdout=out)
    new_key = out.getvalue().strip()

    assert post_json(client, pbx_key, new_call("o-1")).status_code == 403
    assert post_json(client, new_key, new_call("o-2")).status_code == 200


def test_a_pbx_added_in_the_admin_shows_its_token_once(client, default_team, settings):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(
        "/admin/channels_ingest/pbx/add/",
        {
            "name": "from-admin",
            "is_active": "on",
            "queues-TOTAL_FORMS": "0",
            "queues-INITIAL_FORMS": "0",
        },
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    key = shown[0].rsplit(": ", 1)[1]
    assert Pbx.objects.get(name="from-admin").key_hash == token_hash(key)
    assert post_json(client, key, new_call(), url="/webhooks/phone/from-admin/").status_code == 200
