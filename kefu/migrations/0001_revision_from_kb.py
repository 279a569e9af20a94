# The revision tokens move from kb to kefu (kefu.revisions): the model only, the table stays
# until 0002 renames it.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("kb", "0002_seed_rules_revisions_bot_channels")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Revision",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=20, unique=True)),
                        ("token", models.CharField(default="", max_length=32)),
                        ("changed_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={"db_table": "kb_revision"},
                ),
            ],
        ),
    ]
