"""The complaint category rule (投诉): its words decide a message is a complaint, over the other
categories and the category model (kb.triage). The words of kb.rules at the time of writing,
copied here so that this migration does not change when the code does; an installation that
already has a category rule with the code `complaint` keeps its own."""

import uuid

from django.db import migrations

WORDS = (
    ["投诉", "态度太差", "态度差", "态度恶劣", "态度很差", "服务太差", "服务态度"]
    + ["太差劲", "差评", "不可接受", "无法接受", "又坏了", "又出问题", "第三次", "好几次了"]
    + ["反复出现", "一直没解决", "还是没解决", "12315", "消协", "曝光", "找媒体", "媒体"]
    + ["complain", "complaint", "complaining", "unacceptable", "rude", "terrible service"]
    + ["worst service", "third time", "still not fixed", "again and again", "keeps happening"]
    + ["consumer association", "go to the media", "report you"]
)


def forward(apps, schema_editor):
    TriageRule = apps.get_model("kb", "TriageRule")
    last = (
        TriageRule.objects.filter(kind="category")
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    TriageRule.objects.get_or_create(
        kind="category",
        code="complaint",
        defaults={"words": WORDS, "position": 0 if last is None else last + 1},
    )
    apps.get_model("kefu", "Revision").objects.filter(key="triage").update(token=uuid.uuid4().hex)


def backward(apps, schema_editor):
    apps.get_model("kb", "TriageRule").objects.filter(kind="category", code="complaint").delete()
    apps.get_model("kefu", "Revision").objects.filter(key="triage").update(token=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0003_urgent_classes"),
        ("kefu", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
