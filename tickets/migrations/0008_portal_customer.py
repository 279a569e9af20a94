"""One-time codes of the self-service page prove a customer: each code names the customer
(filled in from its ticket for the codes already sent) and a ticket only if one was named."""

import django.db.models.deletion
from django.db import migrations, models


def customers_fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    StatusAccessCode = apps.get_model("tickets", "StatusAccessCode")
    Ticket = apps.get_model("tickets", "Ticket")
    for access in StatusAccessCode.objects.filter(customer__isnull=True).iterator():
        access.customer_id = Ticket.objects.values_list("customer_id", flat=True).get(
            pk=access.ticket_id
        )
        access.save(update_fields=["customer"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_aftersales_hooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="statusaccesscode",
            name="customer",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tickets.customer",
            ),
        ),
        migrations.RunPython(customers_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="statusaccesscode",
            name="customer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tickets.customer",
            ),
        ),
        migrations.AlterField(
            model_name="statusaccesscode",
            name="ticket",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                to="tickets.ticket",
            ),
        ),
        migrations.AddIndex(
            model_name="statusaccesscode",
            index=models.Index(fields=["customer", "created_at"], name="tickets_status_code_cust"),
        ),
    ]
