"""Issuing integration tokens with scopes: the command, the admin, and the scopes existing
tokens were given when scopes came in."""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from channels_ingest.models import InboundRecord
from tests.factories import UserFactory
from tickets.models import AuditEntry, IntegrationToken
from tickets.services.tokens import token_hash, token_issue

pytestmark = pytest.mark.django_db


def test_issue_token_takes_the_scopes_it_is_given():
    out = StringIO()

    call_command(
        "issue_token", "shop-orders", "--scope", "inbound:app", "--scope", "orders", stdout=out
    )

    token = IntegrationToken.objects.get(name="shop-orders")
    assert token.key_hash == token_hash(out.getvalue().strip())
    assert token.scopes == ["inbound:app", "orders"]


def test_issue_token_refuses_an_unknown_scope_and_a_token_without_any():
    with pytest.raises(CommandError, match="admin:everything"):
        call_command("issue_token", "bad", "--scope", "admin:everything", stdout=StringIO())
    with pytest.raises(CommandError, match="--scope"):
        call_command("issue_token", "none", stdout=StringIO())
    assert IntegrationToken.objects.count() == 0


def test_a_token_added_in_the_admin_gets_the_scopes_ticked(client, settings):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(
        "/admin/tickets/integrationtoken/add/",
        {"name": "mail-pipe", "is_active": "on", "scopes": ["inbound:email"]},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    key = shown[0].rsplit(": ", 1)[1]
    token = IntegrationToken.objects.get(name="mail-pipe")
    assert token.key_hash == token_hash(key)
    assert token.scopes == ["inbound:email"]


def test_the_admin_changes_a_tokens_scopes(client, settings):
    token, _key = token_issue(name="shop", scopes=["inbound:app"], actor=None)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = client.post(
        f"/admin/tickets/integrationtoken/{token.pk}/change/",
        {"name": "shop", "is_active": "on", "scopes": ["inbound:app", "app:push"]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.scopes == ["inbound:app", "app:push"]
    change = AuditEntry.objects.get(action="token_scopes_changed")
    assert (change.object_id, change.data) == (
        str(token.pk),
        {"before": ["inbound:app"], "after": ["inbound:app", "app:push"]},
    )


def test_existing_tokens_get_the_scopes_of_what_they_were_used_for():
    migration = importlib.import_module("channels_ingest.migrations.0003_integration_token_scopes")
    shop = IntegrationToken.objects.create(name="shop-app", prefix="a", key_hash="a" * 64)
    mail = IntegrationToken.objects.create(name="mail-pipe", prefix="b", key_hash="b" * 64)
    unseen = IntegrationToken.objects.create(name="unused", prefix="c", key_hash="c" * 64)
    for channel, source, provider_id in [
        ("app", "shop-app", "a-1"),
        ("email", "mail-pipe", "e-1"),
        ("email", "mail-pipe", "e-2"),
        ("chat", "unused", "c-1"),  # a chat site's key that happens to equal a token's name
    ]:
        InboundRecord.objects.create(
            channel=channel, provider_id=provider_id, source=source, payload={}
        )

    migration.scopes_from_use(apps, None)

    for token in (shop, mail, unseen):
        token.refresh_from_db()
    assert shop.scopes == ["inbound:app", "app:conversations", "app:push"]
    assert mail.scopes == ["inbound:email"]
    # Nothing recorded: what every token could do before scopes.
    assert unseen.scopes == ["inbound:app", "inbound:email", "app:conversations", "app:push"]
