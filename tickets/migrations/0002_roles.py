"""The three staff roles as groups. Pages and APIs check the group (kefu.roles); the model
permissions make the Django admin follow the same lines."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "agent": [
        "tickets.view_ticket",
        "tickets.change_ticket",
        "tickets.view_customer",
        "tickets.view_message",
        "tickets.add_message",
    ],
    "supervisor": [
        "tickets.view_ticket",
        "tickets.change_ticket",
        "tickets.view_customer",
        "tickets.change_customer",
        "tickets.view_message",
        "tickets.add_message",
        "tickets.view_team",
        "tickets.change_team",
        "tickets.view_agent",
        "tickets.change_agent",
        "tickets.view_routingrule",
        "tickets.change_routingrule",
        "tickets.view_ticketevent",
        "tickets.view_auditentry",
        "sla.view_slapolicy",
        "sla.change_slapolicy",
        "sla.view_businesscalendar",
        "sla.change_businesscalendar",
        "sla.view_slaclock",
        "channels_ingest.view_inboundrecord",
        "channels_ingest.view_outboxentry",
    ],
}


def create(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ("agent", "supervisor", "admin"):
        group, _ = Group.objects.get_or_create(name=role)
        if role == "admin":
            group.permissions.set(Permission.objects.all())
            continue
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["agent", "supervisor", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("sla", "0002_seed_calendar_and_policies"),
        ("channels_ingest", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create, remove)]
