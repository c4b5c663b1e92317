"""One index for the queue's counts by country, risk and language, each with the others as
filters, read from the index alone; it replaces the two it supersedes. Created before they
are dropped, so the queue never goes without."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_crisis_reply_template_name"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["state", "country", "risk_rank", "language"], name="case_state_facets"
            ),
        ),
        migrations.RemoveIndex(model_name="case", name="case_state_country"),
        migrations.RemoveIndex(model_name="case", name="case_state_language"),
    ]
