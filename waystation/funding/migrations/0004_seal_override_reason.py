# The reason a committee pays from another fund than proposed, sealed under the meeting's
# keyring like the minutes. A migration holds no keys and cannot seal a reason already
# written in plaintext: it refuses to run while one exists rather than drop it.

import waystation.vault.fields
from django.db import migrations


def refuse_plaintext_reasons(apps, schema_editor):
    AgendaItem = apps.get_model("funding", "AgendaItem")
    written = AgendaItem.objects.exclude(override_reason="").count()
    if written:
        raise RuntimeError(
            f"{written} agenda item(s) hold a plaintext override reason, which this migration "
            "cannot seal without keys. Copy them out, empty the column "
            "funding_agendaitem.override_reason, migrate, and keep them with the minutes."
        )


class Migration(migrations.Migration):

    dependencies = [
        ("funding", "0003_receipts"),
    ]

    operations = [
        migrations.RunPython(refuse_plaintext_reasons, migrations.RunPython.noop),
        migrations.RemoveField(model_name="agendaitem", name="override_reason"),
        migrations.AddField(
            model_name="agendaitem",
            name="override_reason",
            field=waystation.vault.fields.SealedField(blank=True, null=True),
        ),
    ]
