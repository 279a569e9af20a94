"""The default business calendar (Mon–Fri 09:00–12:00, 13:00–18:00, Asia/Shanghai, China's
holidays and make-up workdays) and the three seed SLA tiers, in business minutes."""

import datetime

from django.db import migrations

SLOTS = [(datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18))]
TIERS = [
    ("urgent", "紧急 Urgent", 30, 120),
    ("regular", "常规 Regular", 240, None),
    ("value_added", "增值 Value-added", 1440, None),
]


def create(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    BusinessHours = apps.get_model("sla", "BusinessHours")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="默认 Default",
        defaults={"timezone": "Asia/Shanghai", "use_cn_holidays": True, "is_default": True},
    )
    if not calendar.hours.exists():
        BusinessHours.objects.bulk_create(
            BusinessHours(calendar=calendar, weekday=day, start=start, end=end)
            for day in range(5)
            for start, end in SLOTS
        )
    for tier, name, first_response, plan in TIERS:
        SlaPolicy.objects.get_or_create(
            tier=tier,
            defaults={
                "name": name,
                "calendar": calendar,
                "first_response_minutes": first_response,
                "plan_minutes": plan,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(tier__in=[t[0] for t in TIERS]).delete()
    apps.get_model("sla", "BusinessCalendar").objects.filter(name="默认 Default").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_calendars_policies_clocks")]
    operations = [migrations.RunPython(create, remove)]
