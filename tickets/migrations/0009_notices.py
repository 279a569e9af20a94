from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_portal_customer")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="notice",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="notice"),
        ),
    ]
