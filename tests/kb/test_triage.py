from dataclasses import replace

import pytest

from kb.rules import DEFAULT_CONFIG
from kb.triage import Category, _triage, triage_text


def test_food_safety_words_make_a_message_urgent_with_the_words_that_fired():
    triage = triage_text("收到的鸡蛋有异物，还有点发臭")

    assert triage.is_urgent
    assert triage.reasons == [{"rule": "food_safety", "words": ["异物", "发臭"]}]


def test_english_rules_match_whole_words_only():
    assert triage_text("The yoghurt was expired and mouldy").reasons == [
        {"rule": "food_safety", "words": ["expired", "mouldy"]}
    ]
    assert triage_text("I am courting a new supplier").is_urgent is False


def test_threats_to_go_to_the_regulator_or_the_media_are_urgent():
    triage = triage_text("再不处理我就打12315投诉，还要发微博曝光")

    assert [reason["rule"] for reason in triage.reasons] == ["legal", "media"]


def test_categories_follow_the_most_keywords():
    assert triage_text("快递还没到，物流信息不动").category == Category.LOGISTICS
    assert triage_text("想退货退款").category == Category.AFTER_SALES
    assert triage_text("App crashes at login").category == Category.TECH
    assert triage_text("你好").category is None


def test_sentiment_is_negative_for_complaints_and_positive_for_thanks():
    assert triage_text("太慢了，非常失望").sentiment < 0
    assert triage_text("谢谢，很满意").sentiment > 0
    assert triage_text("").sentiment == 0.0


def test_repeated_contact_is_a_reason_of_its_own_and_vip_alone_is_not_urgent():
    triage = triage_text("你好", is_vip=True, repeat_contacts=2)

    assert triage.is_urgent
    assert triage.reasons == [{"rule": "repeat_contact", "words": [], "count": 2}]
    assert triage_text("你好", repeat_contacts=1).is_urgent is False
    # VIP orders the queue and may pick its own SLA policy, but is not urgency by default.
    assert triage_text("请问会员积分怎么用", is_vip=True).is_urgent is False


def test_vip_is_a_reason_when_the_settings_say_so():
    config = replace(DEFAULT_CONFIG, vip_is_urgent=True)

    triage = _triage("你好", config, is_vip=True, repeat_contacts=0)

    assert triage.is_urgent
    assert triage.reasons == [{"rule": "vip", "words": []}]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("支付系统故障，所有人都无法下单", "system_failure"),
        ("Your website is down, nobody can order anything", "system_failure"),
        ("我的账号被盗了", "account_security"),
        ("My account was hacked and someone changed the address", "account_security"),
        ("the app charged me twice", "payment_failure"),
        ("付款的时候扣了两次钱", "payment_failure"),
        ("支付失败但是钱没退回来", "payment_failure"),
    ],
)
def test_system_payment_and_account_problems_are_urgent_in_chinese_and_english(text, rule):
    triage = triage_text(text)

    assert triage.is_urgent
    assert rule in [reason["rule"] for reason in triage.reasons]


@pytest.mark.parametrize(
    "text",
    [
        "请问我的订单什么时候到？",
        "我想修改收货地址",
        "How do I change my password?",
        "Can I pay with a gift card?",
        "I was charged for delivery, why?",
        "系统通知我已经收到了，谢谢",
        "包装有大面积破损，想换货",
        "My order number is 12345, when will it ship?",
    ],
)
def test_ordinary_messages_stay_regular(text):
    assert triage_text(text).is_urgent is False


def test_triage_never_raises_on_odd_input():
    assert triage_text(None).category is None  # type: ignore[arg-type]
    assert triage_text("\x00" * 10_000).is_urgent is False
