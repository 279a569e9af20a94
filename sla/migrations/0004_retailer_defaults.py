"""Bring the seeded SLA defaults in line with the retailer's service rules.

* An around-the-clock calendar ("全天候 24/7"); the urgent policy uses it (and ignores team
  hours), so a person answers within 30 minutes and a plan follows within 2 hours at any hour.
* Value-added: a plan within 24 hours (business minutes of the default calendar, as the
  first-response target already was).
* A new after-sales policy: first response within 5 business minutes when the ticket arrives
  in working hours, within 24 hours (wall clock) when it arrives outside them.
* Escalation for every seeded policy's milestones: the assignee at once, the team's
  supervisors later; on urgent tickets a third level notifies the department head and
  reassigns.

The seeded rows are found by their seeded names; rows that were renamed or deleted since are
left alone. The values are written out here so that this migration does not change when the
code does."""

import datetime

from django.db import migrations

ALWAYS = "全天候 24/7"
URGENT = "紧急 Urgent"
VALUE_ADDED = "增值 Value-added"
AFTER_SALES = "售后 After-sales"
SEEDED = [
    URGENT,
    "在线聊天 Chat",
    "邮件工作时间确认 Email acknowledgement",
    "常规 Regular",
    VALUE_ADDED,
    AFTER_SALES,
]
MILESTONE_FIELDS = {
    "first_response": "first_response_minutes",
    "next_response": "next_response_minutes",
    "plan": "plan_minutes",
    "resolution": "resolution_minutes",
}
# level, action, minutes after the breach
URGENT_LEVELS = [
    (1, "notify_assignee", 0),
    (2, "notify_supervisor", 15),
    (3, "head_reassign", 30),
]
OTHER_LEVELS = [
    (1, "notify_assignee", 0),
    (2, "notify_supervisor", 60),
]


def forward(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    BusinessHours = apps.get_model("sla", "BusinessHours")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    EscalationRule = apps.get_model("sla", "EscalationRule")
    default = BusinessCalendar.objects.filter(is_default=True).first()
    if default is None:
        return
    always, _ = BusinessCalendar.objects.get_or_create(
        name=ALWAYS, defaults={"timezone": "Asia/Shanghai", "use_cn_holidays": False}
    )
    if not always.hours.exists():
        BusinessHours.objects.bulk_create(
            BusinessHours(calendar=always, weekday=day, start=datetime.time(0), end=datetime.time.max)
            for day in range(7)
        )
    SlaPolicy.objects.filter(name=URGENT).update(calendar=always, use_policy_calendar=True)
    SlaPolicy.objects.filter(name=VALUE_ADDED).update(plan_minutes=24 * 60)
    SlaPolicy.objects.get_or_create(
        name=AFTER_SALES,
        defaults={
            "position": 28,
            "conditions": {"category": ["after_sales"], "tier": ["regular", "value_added"]},
            "calendar": default,
            "first_response_minutes": 5,
            "out_of_hours_minutes": {"first_response": 24 * 60},
            "next_response_minutes": 4 * 60,
            "resolution_minutes": 3 * 8 * 60,
            "pause_states": ["pending_customer"],
        },
    )
    for policy in SlaPolicy.objects.filter(name__in=SEEDED):
        levels = URGENT_LEVELS if policy.name == URGENT else OTHER_LEVELS
        for milestone, field in MILESTONE_FIELDS.items():
            if not getattr(policy, field):
                continue
            for level, action, delay in levels:
                rule, created = EscalationRule.objects.get_or_create(
                    policy=policy,
                    milestone=milestone,
                    level=level,
                    defaults={
                        "action": action,
                        "delay_minutes": delay,
                        "hold_outside_hours": policy.name != URGENT,
                    },
                )
                # The first seed's last urgent level raised the priority of a ticket that
                # was already urgent, which did nothing.
                if not created and rule.action == "raise_priority" and policy.name == URGENT:
                    rule.action = action
                    rule.hold_outside_hours = False
                    rule.save(update_fields=["action", "hold_outside_hours"])


def backward(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    EscalationRule = apps.get_model("sla", "EscalationRule")
    default = BusinessCalendar.objects.filter(is_default=True).first()
    urgent = SlaPolicy.objects.filter(name=URGENT).first()
    if urgent is not None:
        EscalationRule.objects.filter(policy=urgent).exclude(
            milestone="first_response"
        ).delete()
        EscalationRule.objects.filter(policy=urgent, action="head_reassign").update(
            action="raise_priority", hold_outside_hours=True
        )
        if default is not None:
            SlaPolicy.objects.filter(pk=urgent.pk).update(
                calendar=default, use_policy_calendar=False
            )
    for level, action, delay in OTHER_LEVELS:
        EscalationRule.objects.filter(
            policy__name__in=SEEDED, level=level, action=action, delay_minutes=delay
        ).exclude(policy__name=URGENT).delete()
    SlaPolicy.objects.filter(name=VALUE_ADDED).update(plan_minutes=None)
    SlaPolicy.objects.filter(name=AFTER_SALES, slaclock__isnull=True).delete()
    # The 24/7 calendar is left in place: unused, it changes nothing, and teams or clocks
    # may point at it.

class Migration(migrations.Migration):
    dependencies = [("sla", "0003_out_of_hours_targets")]
    operations = [migrations.RunPython(forward, backward)]
