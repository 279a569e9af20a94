"""The default business calendar (Mon–Fri 09:00–12:00 and 13:00–18:00, Asia/Shanghai, with
China's public holidays and make-up workdays) and the seed SLA policies, chosen by conditions
on the ticket, with escalation for the urgent tier. Minutes are business minutes of the
calendar. The values are written out here so that this migration does not change when the
code does; supervisors edit them under /sla/."""

import datetime

from django.db import migrations

SLOTS = [(datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18))]
PAUSE = ["pending_customer"]
# name, position, active, conditions, first response, next response, plan, resolution
POLICIES = [
    ("紧急 Urgent", 10, True, {"tier": ["urgent"]}, 30, 60, 120, 8 * 60),
    ("在线聊天 Chat", 20, True, {"channel": ["chat"], "tier": ["regular", "value_added"]},
     1, 1, None, 8 * 60),
    ("邮件工作时间确认 Email acknowledgement", 25, False,
     {"channel": ["email"], "tier": ["regular"]}, 5, 4 * 60, None, 3 * 8 * 60),
    ("常规 Regular", 30, True, {"tier": ["regular"]}, 4 * 60, 4 * 60, None, 3 * 8 * 60),
    ("增值 Value-added", 40, True, {"tier": ["value_added"]}, 24 * 60, None, None, 5 * 8 * 60),
]
URGENT_ESCALATION = [
    (1, "notify_assignee", 0),
    (2, "notify_supervisor", 15),
    (3, "raise_priority", 30),
]


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    BusinessHours = apps.get_model("sla", "BusinessHours")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    EscalationRule = apps.get_model("sla", "EscalationRule")
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
    for name, position, active, conditions, first, following, plan, resolution in POLICIES:
        policy, _ = SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "position": position,
                "is_active": active,
                "conditions": conditions,
                "calendar": calendar,
                "first_response_minutes": first,
                "next_response_minutes": following,
                "plan_minutes": plan,
                "resolution_minutes": resolution,
                "pause_states": PAUSE,
            },
        )
        if name == "紧急 Urgent":
            for level, action, delay in URGENT_ESCALATION:
                EscalationRule.objects.get_or_create(
                    policy=policy,
                    milestone="first_response",
                    level=level,
                    defaults={"action": action, "delay_minutes": delay},
                )


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(name__in=[p[0] for p in POLICIES]).delete()
    apps.get_model("sla", "BusinessCalendar").objects.filter(name="默认 Default").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
