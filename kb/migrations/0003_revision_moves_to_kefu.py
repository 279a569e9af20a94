# The revision tokens are kefu's now (kefu/migrations/0001): kb forgets the model, the table
# stays.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0002_seed_rules_revisions_bot_channels"),
        ("kefu", "0001_revision_from_kb"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Revision")],
        ),
    ]
