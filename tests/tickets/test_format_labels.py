"""The `label` filter: a choice's label as `get_FOO_display` shows it, in the viewer's
language, without Django rebuilding the field's choices on every call."""

from django.template import Context, Template
from django.utils import translation

from tickets.models import Channel, Direction, EventKind, Message, TicketEvent
from tickets.templatetags.kefu_format import label


def test_a_label_is_the_one_django_shows_in_each_language():
    message = Message(direction=Direction.OUT, channel=Channel.SMS, delivery_status="failed")
    event = TicketEvent(kind=EventKind.ASSIGNED)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert label(message, "channel") == message.get_channel_display()
            assert label(message, "direction") == message.get_direction_display()
            assert label(message, "delivery_status") == message.get_delivery_status_display()
            assert label(event, "kind") == event.get_kind_display()
    with translation.override("zh-hans"):
        assert label(message, "channel") == "短信"
    with translation.override("en"):
        assert label(message, "channel") == "SMS"


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert label(Message(channel="pigeon"), "channel") == "pigeon"


def test_the_filter_in_a_template():
    template = Template('{% load kefu_format %}{{ m|label:"channel" }}')
    message = Message(channel=Channel.EMAIL)
    with translation.override("en"):
        assert template.render(Context({"m": message})) == "Email"
    with translation.override("zh-hans"):
        assert template.render(Context({"m": message})) == "电子邮件"
