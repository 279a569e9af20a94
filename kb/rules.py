"""Keyword rules and the triage configuration they are part of.

The defaults here are seeded into `TriageRule` by a migration (supervisors then edit them on
the triage page) and are used as they are when the database cannot be read.
"""

import re
from dataclasses import dataclass, field

from kb.classifier import LinearTextModel
from kb.text import has_chinese, normalise


class Category:
    LOGISTICS = "logistics"
    AFTER_SALES = "after_sales"
    TECH = "tech"
    VALUE_ADDED = "value_added"
    # A ticket type of its own (feedback's complaints and their review): its keyword rule
    # wins over the other categories and over the category model (kb.triage).
    COMPLAINT = "complaint"


# fmt: off
# What makes a message a complaint (投诉): the word itself, the agent's attitude, a failure that
# keeps coming back, a threat to go to the regulator (12315, 消协) or the media, and their
# English counterparts. Words of the legal and media urgency rules may appear here too: such a
# message is both urgent and a complaint.
COMPLAINT_WORDS: list[str] = [
    "投诉", "态度太差", "态度差", "态度恶劣", "态度很差", "服务太差", "服务态度",
    "太差劲", "差评", "不可接受", "无法接受", "又坏了", "又出问题", "第三次", "好几次了",
    "反复出现", "一直没解决", "还是没解决", "12315", "消协", "曝光", "找媒体", "媒体",
    "complain", "complaint", "complaining", "unacceptable", "rude", "terrible service",
    "worst service", "third time", "still not fixed", "again and again", "keeps happening",
    "consumer association", "go to the media", "report you",
]

DEFAULT_CATEGORY_RULES: list[tuple[str, list[str]]] = [
    (Category.AFTER_SALES, [
        "退货", "退款", "换货", "维修", "退钱", "售后", "质量问题", "破损",
        "refund", "return", "exchange", "repair", "broken", "damaged",
    ]),
    (Category.LOGISTICS, [
        "物流", "快递", "配送", "送货", "没收到", "未收到", "到货", "发货", "运单", "骑手",
        "delivery", "shipping", "courier", "tracking", "parcel", "not arrived", "late order",
    ]),
    (Category.TECH, [
        "登录", "登陆", "密码", "闪退", "支付失败", "验证码", "打不开", "报错",
        "login", "log in", "password", "crash", "crashes", "error", "bug", "app",
    ]),
    (Category.VALUE_ADDED, [
        "发票", "会员", "积分", "礼品卡", "优惠券", "建议",
        "invoice", "membership", "points", "gift card", "coupon", "suggestion",
    ]),
    (Category.COMPLAINT, COMPLAINT_WORDS),
]

DEFAULT_URGENCY_RULES: list[tuple[str, list[str]]] = [
    ("food_safety", [
        "变质", "发霉", "霉变", "过期", "异物", "拉肚子", "腹泻", "食物中毒", "呕吐", "虫子",
        "发臭",
        "food poisoning", "mould", "mold", "moldy", "mouldy", "expired", "rotten", "spoiled",
    ]),
    ("injury", [
        "受伤", "划伤", "烫伤", "过敏", "住院", "危险", "起火", "爆炸",
        "injury", "injured", "hurt", "allergic reaction", "hospital", "fire", "explode",
    ]),
    ("legal", [
        "12315", "消协", "起诉", "律师", "投诉到", "市场监管", "法院",
        "lawyer", "sue", "lawsuit", "court", "regulator",
    ]),
    ("media", ["曝光", "媒体", "微博", "记者", "抖音", "media", "journalist", "press"]),
    ("system_failure", [
        "系统故障", "系统崩溃", "系统瘫痪", "系统出错了", "宕机", "服务器故障",
        "都无法下单", "都下不了单", "全部无法",
        "outage", "system failure", "system down", "system is down", "site is down",
        "website is down", "app is down", "server down", "nobody can order",
        "no one can order",
    ]),
    ("payment_failure", [
        "支付失败", "付款失败", "扣款失败", "支付异常", "重复扣款", "重复扣费", "重复支付",
        "扣了两次", "扣款两次", "扣了两笔", "付了两次", "多扣",
        "payment failed", "payment failure", "payment error", "charged twice",
        "charged me twice", "double charged", "double charge", "duplicate charge",
        "charged two times", "charged me two times",
    ]),
    ("account_security", [
        "账号被盗", "账户被盗", "帐号被盗", "帐户被盗", "号被盗", "盗号", "被盗刷", "盗刷",
        "密码被改", "被人登录", "异地登录", "被人盗用", "冒用",
        "hacked", "account stolen", "account was stolen", "account has been stolen",
        "account compromised", "account was compromised", "unauthorised login",
        "unauthorized login", "unauthorised charge", "unauthorized charge",
        "unauthorised payment", "unauthorized payment", "someone logged into my account",
    ]),
]
# fmt: on


@dataclass(frozen=True)
class KeywordRule:
    code: str
    substrings: tuple[str, ...]
    english: re.Pattern[str] | None

    @classmethod
    def compile(cls, code: str, words: list[str]) -> "KeywordRule":
        substrings: list[str] = []
        english: list[str] = []
        for word in words:
            word = normalise(word)
            if not word:
                continue
            # Chinese (and bare numbers such as 12315) match inside text; English needs word
            # boundaries, or "courting" would match "court".
            if has_chinese(word) or word.isdigit():
                substrings.append(word)
            else:
                english.append(word)
        pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(w) for w in english) + r")\b", re.IGNORECASE)
            if english
            else None
        )
        return cls(code=code, substrings=tuple(dict.fromkeys(substrings)), english=pattern)

    def hits(self, normalised: str) -> list[str]:
        found = [word for word in self.substrings if word in normalised]
        if self.english is not None:
            found.extend(match.group(0).lower() for match in self.english.finditer(normalised))
        return found


@dataclass(frozen=True)
class TriageConfig:
    category_rules: list[KeywordRule]
    urgency_rules: list[KeywordRule]
    category_threshold: float = 0.5
    negative_sentiment_is_urgent: bool = False
    negative_sentiment_threshold: float = -0.8
    # VIP orders the queue and may select its own SLA policy; it is not urgency by itself.
    vip_is_urgent: bool = False
    repeat_contacts_threshold: int = 2
    category_model: LinearTextModel | None = None
    category_model_id: int | None = None
    sentiment_model: LinearTextModel | None = None
    sentiment_model_id: int | None = None
    sentiment_polarities: dict[str, float] = field(default_factory=dict)


DEFAULT_CONFIG = TriageConfig(
    category_rules=[KeywordRule.compile(code, words) for code, words in DEFAULT_CATEGORY_RULES],
    urgency_rules=[KeywordRule.compile(code, words) for code, words in DEFAULT_URGENCY_RULES],
)
