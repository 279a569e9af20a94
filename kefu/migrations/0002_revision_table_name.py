# kb_revision becomes kefu_revision. After kb has let go of the model, so that undoing kb's
# 0003 first renames the table back.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kefu", "0001_revision_from_kb"),
        ("kb", "0003_revision_moves_to_kefu"),
    ]

    operations = [migrations.AlterModelTable(name="revision", table=None)]
