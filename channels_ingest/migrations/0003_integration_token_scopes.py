"""Give the integration tokens that existed before scopes the scopes of what they were used for.

Kefu did not record which endpoints a token called, only its last use (`last_used_at`). What
is recorded is the inbound log: every message taken in through `POST /api/v1/inbound/app` or
`/inbound/email` keeps the token's name as its `source`. So:

- a token whose name is the source of app messages gets `inbound:app`, and with it
  `app:conversations` and `app:push`: those two endpoints leave no record, and they serve the
  same shop app backend that sends the messages;
- a token whose name is the source of email gets `inbound:email`;
- a token with neither (never used, used only for conversations or push, or whose records are
  gone) gets the four scopes of every endpoint that existed, which is what it could do before.

Tokens that already have scopes are left alone. Going back leaves the scopes as they are (the
tickets migration that added the field removes them).
"""

from django.db import migrations

APP_FAMILY = ["inbound:app", "app:conversations", "app:push"]
EMAIL = ["inbound:email"]
# Every endpoint a token could call before scopes, in the order the documentation lists them.
BEFORE_SCOPES = ["inbound:app", "inbound:email", "app:conversations", "app:push"]


def scopes_from_use(apps, schema_editor):  # type: ignore[no-untyped-def]
    IntegrationToken = apps.get_model("tickets", "IntegrationToken")
    InboundRecord = apps.get_model("channels_ingest", "InboundRecord")
    for token in IntegrationToken.objects.all():
        if token.scopes:
            continue
        channels = set(
            InboundRecord.objects.filter(source=token.name, channel__in=["app", "email"])
            .values_list("channel", flat=True)
            .distinct()
        )
        scopes: list[str] = []
        if "app" in channels:
            scopes += APP_FAMILY
        if "email" in channels:
            scopes += EMAIL
        token.scopes = scopes or BEFORE_SCOPES
        token.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [
        ("channels_ingest", "0002_raw_lz4_compression"),
        ("tickets", "0003_token_scopes"),
    ]

    operations = [migrations.RunPython(scopes_from_use, migrations.RunPython.noop, elidable=False)]
