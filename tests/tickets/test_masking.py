"""Phone, resident ID and bank-card numbers that people write are masked for agents."""

import pytest

from tickets.masking import mask_text, safe_cut

# Valid by their checks: the ID's ISO 7064 character and date of birth, the cards' Luhn digit.
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567894"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("我的电话13812345678谢谢", "我的电话138****5678谢谢"),
        ("电话：138 1234 5678。", "电话：138 **** 5678。"),
        ("+86 138-1234-5678", "+86 138-****-5678"),
        ("0086 13812345678", "0086 138****5678"),
        ("座机010-62345678转总机", "座机010-6***5678转总机"),
        ("手机１３８１２３４５６７８", "手机１３８****５６７８"),
        (f"身份证{ID_NUMBER}号", "身份证1101**********002X号"),
        ("身份证号11010519491231002x", "身份证号1101**********002x"),
        ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证１１０１**********００２Ｘ"),
        (f"卡号{CARD}，谢谢", "卡号6222********7894，谢谢"),
        ("卡号 6222 0212 3456 7894 谢谢", "卡号 6222 **** **** 7894 谢谢"),
        ("card 4111-1111-1111-1111.", "card 4111-****-****-1111."),
        ("退款到6222021234567890128", "退款到6222***********0128"),
    ],
)
def test_personal_numbers_in_chinese_text_are_masked(written, shown):
    assert mask_text(written) == shown


@pytest.mark.parametrize(
    "written",
    [
        "工单 20261123-00427 还没处理",  # a Kefu ticket number (Luhn-valid by design)
        "工单号2026112300427",
        "订单2026120312345已付款",
        "订单号：6222021234567894",  # card-shaped, but the customer says it is an order
        "order #A123456 please",
        "价格￥1380.00元，共13800元",
        "2026-12-03 14:05 送达",
        "客服热线400-820-8820",  # a shop's hotline is no one's personal number
        "11010519491231002Y",  # wrong check character
        "110105194913310020",  # no such date of birth
        "110105180001010010",  # born before 1900: checks out, but not a resident ID
        "6222021234567895",  # Luhn check fails
        "SO6222021234567894",  # part of a longer code
        "",
    ],
)
def test_order_numbers_ticket_numbers_prices_and_near_misses_stay_readable(written):
    assert mask_text(written) == written


def test_two_numbers_in_one_message_are_both_masked():
    text = f"电话13812345678，身份证{ID_NUMBER}，卡号{CARD}"

    assert mask_text(text) == "电话138****5678，身份证1101**********002X，卡号6222********7894"


def test_a_long_text_is_masked_whole_wherever_its_numbers_fall():
    # 10,000 numbers at every offset against the places where long texts are cut.
    text = "".join(f"第{index}个：13812345678" + "。" * (index % 7) for index in range(10_000))

    masked = mask_text(text)

    assert len(masked) == len(text)
    assert masked.count("138****5678") == 10_000
    assert "13812345678" not in masked


def test_a_safe_cut_never_falls_inside_a_number():
    text = "请打电话13812345678或者身份证11010519491231002X谢谢"

    for at in range(len(text)):
        cut = safe_cut(text, at)
        assert at <= cut <= len(text)
        assert mask_text(text[:cut]) + mask_text(text[cut:]) == mask_text(text)
