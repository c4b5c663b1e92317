"""Publish a first, general confidentiality agreement so that the gate is never open.

Organizations replace it by publishing their own version from the Agreements page.
"""

from django.db import migrations

TITLE = "Confidentiality agreement"
BODY = """\
The people whose requests and cases you will see are at risk of violence, imprisonment or
death if anything about them becomes known to the wrong person.

By accepting this agreement you promise:

1. To look only at the cases and information your role needs, and only for this work.
2. Never to copy, photograph, forward, print or discuss case information outside this
   system and the people in your team who need it, during and after your time with us.
3. To keep your password, second factor and recovery codes to yourself, and to use
   "Lock me out now" at once if your device is taken or you are under pressure.
4. To tell a coordinator straight away about any mistake, loss or suspected leak.
5. To use this system only from devices and networks you have reason to trust.

Everything you open is recorded in an audit log.

This default text should be replaced by the organization's own agreement.
"""


def publish(apps, schema_editor):
    Agreement = apps.get_model("accounts", "Agreement")
    if not Agreement.objects.filter(role="").exists():
        Agreement.objects.create(role="", version=1, title=TITLE, body=BODY)


def unpublish(apps, schema_editor):
    Agreement = apps.get_model("accounts", "Agreement")
    Agreement.objects.filter(role="", version=1, title=TITLE, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(publish, unpublish)]
