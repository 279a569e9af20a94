from kb.triage import Category, triage_text


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


def test_vip_customers_and_repeated_contact_are_reasons_of_their_own():
    triage = triage_text("你好", is_vip=True, repeat_contacts=2)

    assert triage.is_urgent
    assert triage.reasons == [
        {"rule": "vip", "words": []},
        {"rule": "repeat_contact", "words": [], "count": 2},
    ]
    assert triage_text("你好", repeat_contacts=1).is_urgent is False


def test_triage_never_raises_on_odd_input():
    assert triage_text(None).category is None  # type: ignore[arg-type]
    assert triage_text("\x00" * 10_000).is_urgent is False
