"""Seed the keyword rules (the built-in ones of kb.rules at the time of writing, copied here so
that this migration does not change when the code does), the revision rows, the settings row
and the bot's channels."""

import uuid

from django.db import migrations

CATEGORY_RULES = [
    (
        "after_sales",
        ["退货", "退款", "换货", "维修", "退钱", "售后", "质量问题", "破损"]
        + ["refund", "return", "exchange", "repair", "broken", "damaged"],
    ),
    (
        "logistics",
        ["物流", "快递", "配送", "送货", "没收到", "未收到", "到货", "发货", "运单", "骑手"]
        + ["delivery", "shipping", "courier", "tracking", "parcel", "not arrived", "late order"],
    ),
    (
        "tech",
        ["登录", "登陆", "密码", "闪退", "支付失败", "验证码", "打不开", "报错"]
        + ["login", "log in", "password", "crash", "crashes", "error", "bug", "app"],
    ),
    (
        "value_added",
        ["发票", "会员", "积分", "礼品卡", "优惠券", "建议"]
        + ["invoice", "membership", "points", "gift card", "coupon", "suggestion"],
    ),
]
URGENCY_RULES = [
    (
        "food_safety",
        ["变质", "发霉", "霉变", "过期", "异物", "拉肚子", "腹泻", "食物中毒", "呕吐", "虫子", "发臭"]
        + ["food poisoning", "mould", "mold", "moldy", "mouldy", "expired", "rotten", "spoiled"],
    ),
    (
        "injury",
        ["受伤", "划伤", "烫伤", "过敏", "住院", "危险", "起火", "爆炸"]
        + ["injury", "injured", "hurt", "allergic reaction", "hospital", "fire", "explode"],
    ),
    (
        "legal",
        ["12315", "消协", "起诉", "律师", "投诉到", "市场监管", "法院"]
        + ["lawyer", "sue", "lawsuit", "court", "regulator"],
    ),
    ("media", ["曝光", "媒体", "微博", "记者", "抖音"] + ["media", "journalist", "press"]),
]
BOT_CHANNELS = [
    ("app", True, 0.4),
    ("chat", True, 0.4),
    ("sms", True, 0.45),
    ("web", True, 0.35),
    ("email", False, 0.6),
    ("phone", False, 0.6),
]


def seed(apps, schema_editor):
    TriageRule = apps.get_model("kb", "TriageRule")
    Revision = apps.get_model("kefu", "Revision")
    TriageSettings = apps.get_model("kb", "TriageSettings")
    BotChannel = apps.get_model("kb", "BotChannel")
    for kind, rules in (("category", CATEGORY_RULES), ("urgency", URGENCY_RULES)):
        for position, (code, words) in enumerate(rules):
            TriageRule.objects.get_or_create(
                kind=kind, code=code, defaults={"words": words, "position": position}
            )
    for key in ("kb", "triage"):
        Revision.objects.get_or_create(key=key, defaults={"token": uuid.uuid4().hex})
    TriageSettings.objects.get_or_create(pk=1)
    for channel, is_enabled, threshold in BOT_CHANNELS:
        BotChannel.objects.get_or_create(
            channel=channel, defaults={"is_enabled": is_enabled, "threshold": threshold}
        )


def unseed(apps, schema_editor):
    apps.get_model("kb", "TriageRule").objects.all().delete()
    apps.get_model("kefu", "Revision").objects.filter(key__in=["kb", "triage"]).delete()
    apps.get_model("kb", "TriageSettings").objects.all().delete()
    apps.get_model("kb", "BotChannel").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial"), ("kefu", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
