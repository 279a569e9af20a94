"""Integration tokens carry scopes: each token-authenticated endpoint lets through only a token
that holds its scope, and says which one is missing."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from channels_ingest.models import InboundRecord, PushToken
from tests.factories import intake, issue_token
from tickets.authentication import IntegrationUser
from tickets.models import IntegrationToken, Ticket

pytestmark = pytest.mark.django_db

MAIL = (
    b"From: a@example.com\r\nTo: help@example.com\r\nSubject: hi\r\n"
    b"Message-ID: <m1@x>\r\n\r\nhello\r\n"
)


def client_for(*scopes: str, name: str = "scoped") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(name, scopes=scopes)}")
    return client


def app_message(client: APIClient, message_id: str = "s-1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/inbound/app",
        {"message_id": message_id, "user_id": "u-77", "text": "我的订单呢"},
        format="json",
    )


def register_push(client: APIClient):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/app/push-tokens",
        {"user_id": "u-77", "platform": "ios", "token": "device-1"},
        format="json",
    )


def read_conversation(client: APIClient):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/app/conversations/u-77/messages")


def post_email(client: APIClient):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/inbound/email", MAIL, content_type="message/rfc822")


def test_an_email_token_cannot_register_push_devices_for_an_app_user(default_team):
    response = register_push(client_for("inbound:email"))

    assert response.status_code == 403
    assert "app:push" in response.json()["detail"]
    assert PushToken.objects.count() == 0


def test_an_email_token_cannot_read_an_app_users_conversation(default_team):
    intake(user_id="u-77", text="私人的消息", provider_id="app-x")

    response = read_conversation(client_for("inbound:email"))

    assert response.status_code == 403
    assert "app:conversations" in response.json()["detail"]
    assert "私人的消息" not in response.content.decode()


def test_an_email_token_cannot_post_as_an_app_user(default_team):
    response = app_message(client_for("inbound:email"))

    assert response.status_code == 403
    assert "inbound:app" in response.json()["detail"]
    assert InboundRecord.objects.count() == 0
    assert Ticket.objects.count() == 0


def test_an_app_token_cannot_post_email(default_team):
    response = post_email(client_for("inbound:app", "app:conversations", "app:push"))

    assert response.status_code == 403
    assert "inbound:email" in response.json()["detail"]
    assert InboundRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("scope", "call", "expected"),
    [
        ("inbound:app", app_message, 201),
        ("inbound:email", post_email, 201),
        ("app:conversations", read_conversation, 200),
        ("app:push", register_push, 201),
    ],
)
def test_a_token_with_the_endpoints_scope_is_let_through(default_team, scope, call, expected):  # type: ignore[no-untyped-def]
    assert call(client_for(scope)).status_code == expected


def test_a_scope_taken_away_in_the_admin_stops_the_token_at_once(default_team):
    client = client_for("inbound:app", "app:push")
    assert app_message(client, "s-1").status_code == 201

    token = IntegrationToken.objects.get(name="scoped")
    token.scopes = ["app:push"]
    token.save()  # as the admin does

    assert app_message(client, "s-2").status_code == 403
    assert register_push(client).status_code == 201


def _api_views(resolver: URLResolver | None = None) -> list[tuple[str, type[APIView]]]:
    found: list[tuple[str, type[APIView]]] = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            found.extend(_api_views(entry))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "view_class", None)
            if isinstance(view_class, type) and issubclass(view_class, APIView):
                found.append((str(entry.pattern), view_class))
    return found


def test_no_api_endpoint_lets_in_a_token_without_scopes(default_team):
    """A new endpoint that forgets to name its scope would accept every token again."""
    issue_token("no-scopes", scopes=())
    token = IntegrationToken.objects.get(name="no-scopes")
    views = _api_views()
    assert len(views) >= 4
    for pattern, view_class in views:
        for method in ("get", "post", "delete"):
            if not hasattr(view_class, method):
                continue
            if _allows(view_class, method, AnonymousUser(), None):
                continue  # public (the schema): no token is needed at all
            allowed = _allows(view_class, method, IntegrationUser(token), token)
            assert not allowed, f"{pattern} {method} lets in a token without scopes"


def _allows(view_class: type[APIView], method: str, user: object, auth: object) -> bool:
    view = view_class()
    request = view.initialize_request(APIRequestFactory().generic(method.upper(), "/"))
    request.user, request.auth = user, auth
    view.request = request
    return all(permission.has_permission(request, view) for permission in view.get_permissions())


def test_the_openapi_schema_names_each_endpoints_scope(client):
    schema = client.get("/api/schema/?format=json").json()

    expected = {
        ("/api/v1/inbound/app", "post"): "inbound:app",
        ("/api/v1/inbound/email", "post"): "inbound:email",
        ("/api/v1/app/conversations/{user_id}/messages", "get"): "app:conversations",
        ("/api/v1/app/push-tokens", "post"): "app:push",
        ("/api/v1/app/push-tokens", "delete"): "app:push",
    }
    for (path, method), scope in expected.items():
        operation = schema["paths"][path][method]
        assert operation["x-required-scopes"] == [scope]
        assert f"`{scope}`" in operation["description"]
        assert operation["security"] == [{"integrationToken": []}]
    scheme = schema["components"]["securitySchemes"]["integrationToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "reports" in scheme["description"]


def test_the_missing_scope_is_named_in_the_language_of_the_request(default_team, settings):
    client = client_for("inbound:email")

    chinese = register_push(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = register_push(client)

    assert chinese.json()["detail"] == "需要具有“app:push”权限范围的集成令牌。"
    assert english.json()["detail"] == (
        "This needs an integration token with the scope “app:push”."
    )
