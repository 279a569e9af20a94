"""Codes are shown with their labels: the outbox's channels and kinds, a ticket's category,
the triage page's categories and bot channels, the admin's outbox and routing lists."""

import pytest

from channels_ingest.models import OutboxEntry
from tests.factories import intake

pytestmark = pytest.mark.django_db


def test_the_outbox_names_channels_and_kinds(client, supervisor, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(supervisor.user)
    OutboxEntry.objects.create(
        channel="sms", to="+8613800138000", body="您好", kind="acknowledgement"
    )
    OutboxEntry.objects.create(channel="app", to="u-1", body="hi", kind="notification")

    page = client.get("/outbox/").content.decode()

    assert "<td>短信</td>" in page and "<td>自动回复</td>" in page
    assert "<td>通知</td>" in page
    assert "<td>sms</td>" not in page and "<td>acknowledgement</td>" not in page


def test_the_ticket_page_names_its_category(agent_client, agent, settings):
    ticket = intake(text="你好").ticket
    ticket.category = "logistics"
    ticket.team = agent.teams.get()
    ticket.save(update_fields=["category", "team"])
    agent_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = agent_client.get(f"/tickets/{ticket.number}/")

    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "Category: Logistics" in text
    assert "App user: u-" in text and "app_user:" not in text


def test_the_triage_page_names_categories_and_bot_channels(client, supervisor, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(supervisor.user)

    page = " ".join(client.get("/kb/manage/triage/").content.decode().split())

    assert "<strong>Logistics</strong>" in page
    assert "<td>Web chat" in page
    assert "<strong>logistics</strong>" not in page


def test_the_admin_lists_name_channels_kinds_and_categories(client, settings, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests")
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    OutboxEntry.objects.create(channel="chat", to="v-1", body="hi", kind="code")
    from tickets.models import RoutingRule, Team

    RoutingRule.objects.create(category="after_sales", team=Team.objects.create(name="售后"))

    outbox = client.get("/admin/channels_ingest/outboxentry/").content.decode()
    from kb.models import BotChannel

    BotChannel.objects.update_or_create(channel="chat", defaults={"is_enabled": True})
    rules = client.get("/admin/tickets/routingrule/").content.decode()
    bot = client.get("/admin/kb/botchannel/").content.decode()

    assert "Web chat" in outbox and "One-time code" in outbox
    assert "After-sales" in rules
    assert 'class="field-channel_name"' in bot
    assert ">Web chat<" in bot
