"""Turn the one-policy-per-tier seed into policies chosen by conditions, and add the seed
targets the tiers did not cover: chat answered within a minute, resolution targets, and the
states that pause the clocks. Escalation is seeded for the urgent tier."""

from django.db import migrations

PAUSE = ["pending_customer"]


def forward(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    EscalationRule = apps.get_model("sla", "EscalationRule")
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    positions = {"urgent": 10, "regular": 30, "value_added": 40}
    for policy in SlaPolicy.objects.all():
        tier = policy.tier
        policy.conditions = {"tier": [tier]}
        policy.position = positions.get(tier, 50)
        policy.pause_states = PAUSE
        if tier == "urgent":
            policy.resolution_minutes = 8 * 60
            policy.next_response_minutes = 60
        elif tier == "regular":
            policy.resolution_minutes = 3 * 8 * 60
            policy.next_response_minutes = 4 * 60
        else:
            policy.resolution_minutes = 5 * 8 * 60
        policy.save()
        if tier == "urgent":
            for level, action, delay in [
                (1, "notify_assignee", 0),
                (2, "notify_supervisor", 15),
                (3, "raise_priority", 30),
            ]:
                EscalationRule.objects.get_or_create(
                    policy=policy,
                    milestone="first_response",
                    level=level,
                    defaults={"action": action, "delay_minutes": delay},
                )
    calendar = BusinessCalendar.objects.filter(is_default=True).first()
    if calendar is None:
        return
    SlaPolicy.objects.get_or_create(
        name="在线聊天 Chat",
        defaults={
            "tier": "chat",
            "position": 20,
            "conditions": {"channel": ["chat"], "tier": ["regular", "value_added"]},
            "calendar": calendar,
            "first_response_minutes": 1,
            "next_response_minutes": 1,
            "resolution_minutes": 8 * 60,
            "pause_states": PAUSE,
        },
    )
    SlaPolicy.objects.get_or_create(
        name="邮件工作时间确认 Email acknowledgement",
        defaults={
            "tier": "email_ack",
            "position": 25,
            "is_active": False,
            "conditions": {"channel": ["email"], "tier": ["regular"]},
            "calendar": calendar,
            "first_response_minutes": 5,
            "next_response_minutes": 4 * 60,
            "resolution_minutes": 3 * 8 * 60,
            "pause_states": PAUSE,
        },
    )


def backward(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaPolicy.objects.filter(tier__in=["chat", "email_ack"]).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0004_policy_conditions_pauses_escalation")]
    operations = [migrations.RunPython(forward, backward)]
