"""The stock root-cause taxonomy for complaint reviews and the complaint SLA policy.

The policy is chosen for tickets of the category `complaint` that are not urgent (an urgent
complaint, a threat to go to 12315 say, keeps the urgent policy, which comes first): a
person answers within an hour and proposes a plan within 4 business hours, and the complaint
is resolved within 2 business days; a breach notifies the assignee at once and the team's
supervisors 30 minutes later. The values are written out here so that this migration does
not change when the code does; supervisors edit the policy under /sla/ and the taxonomy under
/complaints/causes/."""

from django.db import migrations

ROOT_CAUSES = [
    ("product_quality", "产品质量", "Product quality"),
    ("logistics", "物流配送", "Logistics and delivery"),
    ("agent_attitude", "客服态度", "Agent attitude"),
    ("agent_skill", "客服能力", "Agent skill or knowledge"),
    ("policy", "政策规则", "Policy or rules"),
    ("system_fault", "系统故障", "System fault"),
    ("supplier", "供应商", "Supplier or merchant"),
    ("other", "其他", "Other"),
]
POLICY = "投诉 Complaint"
MILESTONE_FIELDS = {
    "first_response": "first_response_minutes",
    "next_response": "next_response_minutes",
    "plan": "plan_minutes",
    "resolution": "resolution_minutes",
}
LEVELS = [(1, "notify_assignee", 0), (2, "notify_supervisor", 30)]


def forward(apps, schema_editor):
    RootCause = apps.get_model("feedback", "RootCause")
    for position, (code, name_zh, name_en) in enumerate(ROOT_CAUSES):
        RootCause.objects.get_or_create(
            code=code,
            defaults={"name_zh": name_zh, "name_en": name_en, "position": (position + 1) * 10},
        )
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    EscalationRule = apps.get_model("sla", "EscalationRule")
    calendar = BusinessCalendar.objects.filter(is_default=True).first()
    if calendar is None:
        return
    policy, created = SlaPolicy.objects.get_or_create(
        name=POLICY,
        defaults={
            "position": 15,
            "conditions": {"category": ["complaint"], "tier": ["regular", "value_added"]},
            "calendar": calendar,
            "first_response_minutes": 60,
            "next_response_minutes": 2 * 60,
            "plan_minutes": 4 * 60,
            "resolution_minutes": 2 * 8 * 60,
            "pause_states": ["pending_customer"],
        },
    )
    if not created:
        return
    for milestone, field in MILESTONE_FIELDS.items():
        if not getattr(policy, field):
            continue
        for level, action, delay in LEVELS:
            EscalationRule.objects.get_or_create(
                policy=policy,
                milestone=milestone,
                level=level,
                defaults={"action": action, "delay_minutes": delay},
            )


def backward(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(name=POLICY, slaclock__isnull=True).delete()
    apps.get_model("feedback", "RootCause").objects.filter(
        code__in=[code for code, _zh, _en in ROOT_CAUSES], reviews__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_complaints"),
        ("sla", "0004_retailer_defaults"),
    ]

    operations = [migrations.RunPython(forward, backward)]
