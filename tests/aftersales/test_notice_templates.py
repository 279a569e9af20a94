"""The texts of customer notices: seeded for every event, edited by supervisors with a preview,
placeholders checked, nothing in a text evaluated, every change audited."""

import pytest

from aftersales.notice_models import NoticeEvent, NoticeTemplate
from aftersales.services.notices import notice_send, render_text
from tests.factories import intake
from tickets.models import AuditEntry, Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client, supervisor):  # type: ignore[no-untyped-def]
    client.force_login(supervisor.user)
    return client


def a_template(event: str = "case.refunded", channel: str = "sms") -> NoticeTemplate:
    return NoticeTemplate.objects.get(event=event, channel=channel, language="zh-hans")


def test_every_event_has_chinese_and_english_texts_with_the_link():
    for event in NoticeEvent.values:
        for language in ("zh-hans", "en"):
            general = NoticeTemplate.objects.get(event=event, channel="", language=language)
            sms = NoticeTemplate.objects.get(event=event, channel="sms", language=language)
            assert general.subject and "{link}" in general.body
            assert "{link}" in sms.body
    refunded = a_template("case.refunded", "sms").body
    assert "{amount}" in refunded
    assert "{reason}" in a_template("case.rejected", "").body
    assert "{return_address}" in a_template("case.waiting_for_return", "").body
    assert "{tracking}" in a_template("case.replacement_shipped", "").body


def test_short_chinese_sms_texts():
    for template in NoticeTemplate.objects.filter(channel="sms", language="zh-hans"):
        filled = render_text(
            template.body,
            {
                "case_number": "AS202611200001",
                "ticket_number": "T000123",
                "order_number": "SO2026000123",
                "expected": "1个工作日",
                "amount": "¥50.00",
                "tracking": "SF 1234567890",
                "reason": "超过售后期",
                "return_address": "上海市浦东新区某路1号",
            },
        )
        assert len(filled) <= 70, (template.event, filled)


def test_placeholders_are_filled_and_nothing_else_is_evaluated():
    values = {"order_number": "SO1", "link": "https://x/status/"}
    assert render_text("订单 {order_number}：{link}", values) == "订单 SO1：https://x/status/"
    # Attribute and index lookups, format specs and positions stay as written.
    for text in ("{link.__class__}", "{order_number[0]}", "{link!r}", "{0}", "{settings}"):
        assert render_text(text, values) == text
    assert render_text("{item}", values) == ""  # known but not given: empty


def test_the_list_shows_templates_by_event_channel_and_language(supervisor_client):
    page = supervisor_client.get("/aftersales/notices/").content.decode()

    assert page.count('class="card notice-event"') == len(NoticeEvent.values)
    assert "case.inspection_failed" in page and "logistics_anomaly" in page
    assert f'href="/aftersales/notices/{a_template().pk}/"' in page


def test_agents_may_not_open_or_change_the_texts(agent_client, client):
    template = a_template()
    for url in ("/aftersales/notices/", f"/aftersales/notices/{template.pk}/"):
        assert agent_client.get(url).status_code == 403
    posted = agent_client.post(
        f"/aftersales/notices/{template.pk}/", {"subject": "", "body": "改了 {link}"}
    )
    preview = agent_client.post("/aftersales/notices/preview/", {"body": "{link}"})
    assert (posted.status_code, preview.status_code) == (403, 403)
    template.refresh_from_db()
    assert template.body != "改了 {link}"
    client.logout()
    assert client.get("/aftersales/notices/").status_code == 302


def test_the_preview_fills_in_sample_values(supervisor_client):
    response = supervisor_client.post(
        "/aftersales/notices/preview/",
        {"subject": "退款 {case_number}", "body": "已退款 {amount}，<b>详情</b> {link} {nope}"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "退款 AS202611200001" in html and "已退款 ¥50.00" in html
    assert "&lt;b&gt;" in html  # escaped, never markup
    assert "{nope}" in html and 'class="error"' in html

    page = supervisor_client.post(
        f"/aftersales/notices/{a_template().pk}/",
        {"subject": "", "body": "已退款 {amount}：{link}", "preview": "1"},
    )
    assert "已退款 ¥50.00：https://kefu.example/status/" in page.content.decode()
    assert a_template().body != "已退款 {amount}：{link}"  # a preview saves nothing


def test_an_unknown_placeholder_is_refused_with_a_clear_message(supervisor_client):
    template = a_template()
    before = template.body
    response = supervisor_client.post(
        f"/aftersales/notices/{template.pk}/",
        {"subject": "", "body": "已退款 {amount}，{order_number.__class__} {refund}"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown placeholder" in page or "未知的占位符" in page
    assert "{refund}" in page and "{order_number.__class__}" in page
    template.refresh_from_db()
    assert template.body == before
    assert not AuditEntry.objects.filter(object_type="notice_template").exists()


def test_a_saved_text_is_audited_and_used_by_the_next_notice(supervisor, supervisor_client):
    template = NoticeTemplate.objects.get(event="ticket.resolved", channel="", language="zh-hans")
    before = template.body
    response = supervisor_client.post(
        f"/aftersales/notices/{template.pk}/",
        {
            "event": "case.refunded",  # fixed once created: ignored
            "subject": "已解决 {ticket_number}",
            "body": "工单 {ticket_number} 已解决，谢谢！{link}",
        },
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.event, template.updated_by) == ("ticket.resolved", supervisor.user)
    entry = AuditEntry.objects.get(object_type="notice_template", object_id=str(template.pk))
    assert entry.action == "notice_template_changed"
    assert entry.actor == supervisor.user
    assert entry.data["fields"] == ["body", "subject"]
    assert entry.data["previous"]["body"] == before

    ticket = intake(email="kim@example.com", text="你好").ticket
    ticket.customer.preferred_channel = Channel.EMAIL
    ticket.customer.save(update_fields=["preferred_channel"])
    message = notice_send(ticket=ticket, event="ticket.resolved", context={}, key="k")
    assert message is not None
    assert message.subject == f"已解决 {ticket.number}"
    assert message.body.startswith(f"工单 {ticket.number} 已解决，谢谢！")


def test_a_supervisor_adds_a_text_for_one_channel(supervisor_client):
    response = supervisor_client.post(
        "/aftersales/notices/new/",
        {
            "event": "case.completed",
            "channel": "app",
            "language": "en",
            "subject": "",
            "body": "Case {case_number} done. {link}",
        },
    )

    assert response.status_code == 302
    created = NoticeTemplate.objects.get(event="case.completed", channel="app", language="en")
    assert created.body == "Case {case_number} done. {link}"
    assert AuditEntry.objects.get(object_id=str(created.pk)).action == "notice_template_created"
    duplicate = supervisor_client.post(
        "/aftersales/notices/new/",
        {"event": "case.completed", "channel": "app", "language": "en", "body": "x {link}"},
    )
    assert duplicate.status_code == 200  # already there: the form says so
    assert NoticeTemplate.objects.filter(event="case.completed", channel="app").count() == 1
