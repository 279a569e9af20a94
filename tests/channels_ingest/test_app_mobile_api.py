"""The shop app's API beyond sending a message: the conversation since a cursor, and push
tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_ingest.models import PushToken
from tests.factories import intake
from tickets.models import Channel, Message
from tickets.services.workflow import ticket_add_note, ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(token):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def url(user_id: str) -> str:
    return f"/api/v1/app/conversations/{user_id}/messages"


def settle_all() -> None:
    """Messages made by a test are a moment old; the cursor only passes settled ones."""
    Message.objects.update(created_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def conversation(default_team, agent):  # type: ignore[no-untyped-def]
    first = intake(user_id="u-9", text="草莓坏了", provider_id="app-a").ticket
    ticket_add_note(ticket=first, author=agent, body="内部：先查订单")
    ticket_reply(ticket=first, author=agent, body="请发张照片")
    intake(user_id="u-9", text="好的", provider_id="app-b")
    intake(user_id="u-other", text="别人的消息", provider_id="app-c")
    intake(user_id="u-9", text="网页聊天里的", provider_id="chat-a", channel=Channel.CHAT)
    settle_all()
    return first


# --- the conversation -------------------------------------------------------------------


def test_the_conversation_lists_public_app_messages_in_order_a_page_at_a_time(api, conversation):
    first = api.get(url("u-9"), {"limit": 2})
    second = api.get(url("u-9"), {"since": first.json()["next_cursor"], "limit": 2})

    assert first.status_code == 200
    page_one, page_two = first.json(), second.json()
    assert [(m["sender"], m["text"]) for m in page_one["messages"]] == [
        ("customer", "草莓坏了"),
        ("agent", "请发张照片"),
    ]
    assert page_one["has_more"] is True
    assert [(m["sender"], m["text"]) for m in page_two["messages"]] == [("customer", "好的")]
    assert page_two["has_more"] is False
    assert page_two["messages"][0]["ticket_number"] == conversation.number
    ids = [m["id"] for m in page_one["messages"] + page_two["messages"]]
    assert ids == sorted(ids)


def test_a_cursor_at_the_end_returns_nothing_new_until_something_is_written(api, conversation):
    everything = api.get(url("u-9")).json()
    cursor = everything["next_cursor"]

    quiet = api.get(url("u-9"), {"since": cursor}).json()
    intake(user_id="u-9", text="还有一个问题", provider_id="app-d")
    settle_all()
    fresh = api.get(url("u-9"), {"since": cursor}).json()

    assert quiet == {"messages": [], "next_cursor": cursor, "has_more": False}
    assert [m["text"] for m in fresh["messages"]] == ["还有一个问题"]


def test_the_cursor_does_not_pass_a_message_of_the_last_seconds(api, conversation):
    cursor = api.get(url("u-9")).json()["next_cursor"]
    intake(user_id="u-9", text="刚刚发的", provider_id="app-e")

    fresh = api.get(url("u-9"), {"since": cursor}).json()
    again = api.get(url("u-9"), {"since": fresh["next_cursor"]}).json()

    # Returned at once, and again next time (the app drops the repeat by id) until settled.
    assert [m["text"] for m in fresh["messages"]] == ["刚刚发的"]
    assert fresh["next_cursor"] == cursor
    assert [m["id"] for m in again["messages"]] == [m["id"] for m in fresh["messages"]]


def test_a_user_who_never_wrote_has_an_empty_conversation(api, default_team):
    response = api.get(url("u-nobody"))

    assert response.status_code == 200
    assert response.json() == {"messages": [], "next_cursor": "", "has_more": False}


@pytest.mark.parametrize(
    "query", [{"since": "abc"}, {"since": "-5"}, {"limit": 0}, {"limit": 201}, {"limit": "x"}]
)
def test_a_bad_cursor_or_limit_is_refused_400(api, conversation, query):  # type: ignore[no-untyped-def]
    response = api.get(url("u-9"), query)

    assert response.status_code == 400
    assert set(response.json()) <= {"since", "limit"}


def test_the_conversation_needs_an_integration_token(conversation, agent_client):
    assert APIClient().get(url("u-9")).status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert bad.get(url("u-9")).status_code == 401
    assert agent_client.get(url("u-9")).status_code == 403


def test_a_page_reads_the_messages_in_one_query_whatever_its_size(
    api, default_team, agent, django_assert_max_num_queries
):
    for number in range(30):
        ticket = intake(user_id="u-busy", text=f"问题{number}", provider_id=f"busy-{number}").ticket
        ticket_reply(ticket=ticket, author=agent, body=f"回答{number}")
    settle_all()

    # Besides authentication (the token, its last-used stamp), one query for the page.
    with django_assert_max_num_queries(5) as small:
        api.get(url("u-busy"), {"limit": 5})
    with django_assert_max_num_queries(5) as large:
        response = api.get(url("u-busy"), {"limit": 50})

    assert len(response.json()["messages"]) == 50
    for captured in (small, large):
        page_queries = [
            query["sql"]
            for query in captured.captured_queries
            if "integrationtoken" not in query["sql"] and "kefu_revision" not in query["sql"]
        ]
        assert len(page_queries) == 1


# --- push tokens ------------------------------------------------------------------------

TOKENS = "/api/v1/app/push-tokens"


def test_registering_a_push_token_is_idempotent(api):
    body = {"user_id": "u-9", "platform": "ios", "token": "apns-token-1"}

    first = api.post(TOKENS, body, format="json")
    again = api.post(TOKENS, body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == body
    assert list(PushToken.objects.values_list("user_id", "platform", "token")) == [
        ("u-9", "ios", "apns-token-1")
    ]


def test_a_token_registered_by_another_user_moves_to_them(api):
    api.post(TOKENS, {"user_id": "u-9", "platform": "android", "token": "fcm-1"}, format="json")

    moved = api.post(
        TOKENS, {"user_id": "u-10", "platform": "android", "token": "fcm-1"}, format="json"
    )

    assert moved.status_code == 201
    assert list(PushToken.objects.values_list("user_id", flat=True)) == ["u-10"]


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "u-9", "platform": "windows", "token": "t"},
        {"user_id": "u-9", "platform": "ios"},
        {"platform": "ios", "token": "t"},
        {"user_id": "u-9", "platform": "ios", "token": "t" * 513},
    ],
)
def test_a_bad_push_token_registration_is_refused_400(api, body):  # type: ignore[no-untyped-def]
    response = api.post(TOKENS, body, format="json")

    assert response.status_code == 400
    assert PushToken.objects.count() == 0


def test_push_tokens_need_an_integration_token(agent_client):
    body = {"user_id": "u-9", "platform": "ios", "token": "t"}

    assert APIClient().post(TOKENS, body, format="json").status_code == 401
    assert agent_client.post(TOKENS, body, content_type="application/json").status_code == 403
    assert PushToken.objects.count() == 0


def test_a_push_token_can_be_removed_once(api):
    body = {"user_id": "u-9", "platform": "ios", "token": "apns-token-2"}
    api.post(TOKENS, body, format="json")

    removed = api.delete(TOKENS, {"platform": "ios", "token": "apns-token-2"}, format="json")
    again = api.delete(TOKENS, {"platform": "ios", "token": "apns-token-2"}, format="json")

    assert (removed.status_code, again.status_code) == (204, 404)
    assert PushToken.objects.count() == 0


def test_the_openapi_schema_describes_the_app_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()

    assert "get" in schema["paths"]["/api/v1/app/conversations/{user_id}/messages"]
    assert {"post", "delete"} <= set(schema["paths"]["/api/v1/app/push-tokens"])
