"""The retailer's urgent classes that the first seed lacked: system failure, payment failure
and a stolen account or other security problem, in Chinese and English (the words of
kb.rules at the time of writing, copied here so that this migration does not change when the
code does); and VIP no longer makes a message urgent by default (VIP orders the queue and may
select its own SLA policy instead). The seeded settings row is switched off too."""

import uuid

from django.db import migrations, models

URGENCY_RULES = [
    (
        "system_failure",
        ["系统故障", "系统崩溃", "系统瘫痪", "系统出错了", "宕机", "服务器故障"]
        + ["都无法下单", "都下不了单", "全部无法"]
        + ["outage", "system failure", "system down", "system is down", "site is down"]
        + ["website is down", "app is down", "server down", "nobody can order"]
        + ["no one can order"],
    ),
    (
        "payment_failure",
        ["支付失败", "付款失败", "扣款失败", "支付异常", "重复扣款", "重复扣费", "重复支付"]
        + ["扣了两次", "扣款两次", "扣了两笔", "付了两次", "多扣"]
        + ["payment failed", "payment failure", "payment error", "charged twice"]
        + ["charged me twice", "double charged", "double charge", "duplicate charge"]
        + ["charged two times", "charged me two times"],
    ),
    (
        "account_security",
        ["账号被盗", "账户被盗", "帐号被盗", "帐户被盗", "号被盗", "盗号", "被盗刷", "盗刷"]
        + ["密码被改", "被人登录", "异地登录", "被人盗用", "冒用"]
        + ["hacked", "account stolen", "account was stolen", "account has been stolen"]
        + ["account compromised", "account was compromised", "unauthorised login"]
        + ["unauthorized login", "unauthorised charge", "unauthorized charge"]
        + ["unauthorised payment", "unauthorized payment", "someone logged into my account"],
    ),
]


def forward(apps, schema_editor):
    TriageRule = apps.get_model("kb", "TriageRule")
    TriageSettings = apps.get_model("kb", "TriageSettings")
    Revision = apps.get_model("kefu", "Revision")
    last = (
        TriageRule.objects.filter(kind="urgency").order_by("-position").values_list(
            "position", flat=True
        ).first()
    )
    position = 0 if last is None else last + 1
    for offset, (code, words) in enumerate(URGENCY_RULES):
        TriageRule.objects.get_or_create(
            kind="urgency", code=code, defaults={"words": words, "position": position + offset}
        )
    TriageSettings.objects.filter(pk=1).update(vip_is_urgent=False)
    Revision.objects.filter(key="triage").update(token=uuid.uuid4().hex)


def backward(apps, schema_editor):
    apps.get_model("kb", "TriageRule").objects.filter(
        kind="urgency", code__in=[code for code, _words in URGENCY_RULES]
    ).delete()
    apps.get_model("kb", "TriageSettings").objects.filter(pk=1).update(vip_is_urgent=True)
    apps.get_model("kefu", "Revision").objects.filter(key="triage").update(
        token=uuid.uuid4().hex
    )


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0002_seed_rules_revisions_bot_channels"),
        ("kefu", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="triagesettings",
            name="vip_is_urgent",
            field=models.BooleanField(default=False, verbose_name="VIP customers are urgent"),
        ),
        migrations.RunPython(forward, backward),
    ]
