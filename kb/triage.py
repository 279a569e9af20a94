"""Triage of one inbound text: category, urgency (with the reasons) and a sentiment score.

This first cut is rule-based and explainable: each urgency rule that fires is returned with the
words that made it fire, so the ticket can show "urgent because …". Chinese keywords match as
substrings (Chinese has no spaces between words); English keywords match on word boundaries,
case-insensitively.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


class Category:
    LOGISTICS = "logistics"
    AFTER_SALES = "after_sales"
    TECH = "tech"
    VALUE_ADDED = "value_added"


_CATEGORY_RULES: dict[str, tuple[list[str], list[str]]] = {
    Category.AFTER_SALES: (
        ["退货", "退款", "换货", "维修", "退钱", "售后", "质量问题", "破损"],
        ["refund", "return", "exchange", "repair", "broken", "damaged"],
    ),
    Category.LOGISTICS: (
        ["物流", "快递", "配送", "送货", "没收到", "未收到", "到货", "发货", "运单", "骑手"],
        ["delivery", "shipping", "courier", "tracking", "parcel", "not arrived", "late order"],
    ),
    Category.TECH: (
        ["登录", "登陆", "密码", "闪退", "支付失败", "验证码", "打不开", "报错"],
        ["login", "log in", "password", "crash", "crashes", "error", "bug", "app"],
    ),
    Category.VALUE_ADDED: (
        ["发票", "会员", "积分", "礼品卡", "优惠券", "建议"],
        ["invoice", "membership", "points", "gift card", "coupon", "suggestion"],
    ),
}

# Why a ticket is urgent, by rule code; shown on the ticket in the reader's language.
URGENCY_LABELS = {
    "food_safety": _("Food safety"),
    "injury": _("Injury or danger"),
    "legal": _("Legal or regulatory threat"),
    "media": _("Media exposure"),
}

# (rule code, Chinese keywords, English keywords)
_URGENCY_RULES: list[tuple[str, list[str], list[str]]] = [
    (
        "food_safety",
        [
            "变质",
            "发霉",
            "霉变",
            "过期",
            "异物",
            "拉肚子",
            "腹泻",
            "食物中毒",
            "呕吐",
            "虫子",
            "发臭",
        ],
        ["food poisoning", "mould", "mold", "moldy", "mouldy", "expired", "rotten", "spoiled"],
    ),
    (
        "injury",
        ["受伤", "划伤", "烫伤", "过敏", "住院", "危险", "起火", "爆炸"],
        ["injury", "injured", "hurt", "allergic reaction", "hospital", "fire", "explode"],
    ),
    (
        "legal",
        ["12315", "消协", "起诉", "律师", "投诉到", "市场监管", "法院"],
        ["lawyer", "sue", "lawsuit", "court", "regulator"],
    ),
    ("media", ["曝光", "媒体", "微博", "记者", "抖音"], ["media", "journalist", "press"]),
]

_NEGATIVE = ["差", "垃圾", "失望", "生气", "愤怒", "太慢", "骗", "恶心", "投诉", "不满"]
_NEGATIVE_EN = ["terrible", "awful", "angry", "disappointed", "worst", "scam", "unacceptable"]
_POSITIVE = ["谢谢", "满意", "好评", "感谢", "很好", "不错"]
_POSITIVE_EN = ["thanks", "thank you", "great", "satisfied", "excellent", "good"]


def _english_pattern(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


_CATEGORY_COMPILED = [
    (category, chinese, _english_pattern(english))
    for category, (chinese, english) in _CATEGORY_RULES.items()
]
_URGENCY_COMPILED = [
    (reason, chinese, _english_pattern(english)) for reason, chinese, english in _URGENCY_RULES
]
_NEG_EN = _english_pattern(_NEGATIVE_EN)
_POS_EN = _english_pattern(_POSITIVE_EN)


@dataclass(frozen=True)
class Triage:
    category: str | None
    is_urgent: bool
    reasons: list[dict[str, object]] = field(default_factory=list)  # {"rule", "words"}
    sentiment: float = 0.0  # -1 (very negative) … 1 (very positive)


def _hits(text: str, chinese: list[str], english: re.Pattern[str]) -> list[str]:
    found = [word for word in chinese if word in text]
    found.extend(match.group(0).lower() for match in english.finditer(text))
    return found


def triage_text(text: str) -> Triage:
    """Classify one message. Never raises on any string, including an empty one."""
    scores: list[tuple[int, int, str]] = []
    for order, (name, chinese, english) in enumerate(_CATEGORY_COMPILED):
        count = len(_hits(text, chinese, english))
        if count:
            scores.append((-count, order, name))
    category: str | None = min(scores)[2] if scores else None

    reasons: list[dict[str, object]] = []
    for rule, chinese, english in _URGENCY_COMPILED:
        hits = _hits(text, chinese, english)
        if hits:
            reasons.append({"rule": rule, "words": list(dict.fromkeys(hits))})

    negative = len(_hits(text, _NEGATIVE, _NEG_EN)) + len(reasons)
    positive = len(_hits(text, _POSITIVE, _POS_EN))
    total = negative + positive
    sentiment = 0.0 if total == 0 else round((positive - negative) / total, 2)
    return Triage(category=category, is_urgent=bool(reasons), reasons=reasons, sentiment=sentiment)
