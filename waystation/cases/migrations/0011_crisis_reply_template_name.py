"""A crisis response names the reply templates it answers with (one per language, sharing a
name) instead of holding a text of its own. A text it held becomes an English template
named after the response, under a name no template has yet, so the response answers with
that text alone."""

import re
from typing import Any

from django.db import migrations, models
from django.utils import timezone

NAME_LENGTH = 120


def _free_name(base: str, taken: set[str]) -> str:
    """`base`, or `base (2)`, `base (3)`, … cut to fit: the first no template is called."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f" ({number})"
        name = base[: NAME_LENGTH - len(suffix)] + suffix
        if name not in taken:
            return name
        number += 1


def _called_after(name: str, base: str) -> bool:
    """Whether `name` is `base`, or `base` with a number as `_free_name` adds it."""
    return name == base or re.fullmatch(re.escape(base) + r" \(\d+\)", name) is not None


def texts_to_templates(apps: Any, schema_editor: Any) -> None:
    CrisisResponse = apps.get_model("cases", "CrisisResponse")
    ReplyTemplate = apps.get_model("cases", "ReplyTemplate")
    taken = set(ReplyTemplate.objects.values_list("name", flat=True))
    responses = CrisisResponse.objects.exclude(reply_template="").order_by("created_at", "pk")
    for response in responses:
        text = response.reply_template
        base = response.name.strip()[:NAME_LENGTH] or "Crisis response"
        # Migrated before and back again: the template made then is the one to name.
        made = ReplyTemplate.objects.filter(name__startswith=base, language="en", text=text)
        again = [n for n in made.values_list("name", flat=True) if _called_after(n, base)]
        if again:
            name = min(again)
        else:
            name = _free_name(base, taken)
            ReplyTemplate.objects.create(
                name=name, language="en", text=text, neutral=False, updated_at=timezone.now()
            )
            taken.add(name)
        CrisisResponse.objects.filter(pk=response.pk).update(reply_template_name=name)


def templates_to_texts(apps: Any, schema_editor: Any) -> None:
    """The named template's English text back on the response (another language's when it
    has no English one). The templates stay: coordinators may have translated or changed
    them since, and they answer other cases too."""
    CrisisResponse = apps.get_model("cases", "CrisisResponse")
    ReplyTemplate = apps.get_model("cases", "ReplyTemplate")
    for response in CrisisResponse.objects.exclude(reply_template_name=""):
        versions = ReplyTemplate.objects.filter(name=response.reply_template_name)
        chosen = versions.filter(language="en").first() or versions.order_by("language").first()
        if chosen is not None:
            CrisisResponse.objects.filter(pk=response.pk).update(reply_template=chosen.text)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_queue_region_language_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="crisisresponse",
            name="reply_template_name",
            field=models.CharField(
                blank=True, default="", max_length=120, verbose_name="reply template"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(texts_to_templates, templates_to_texts),
        migrations.RemoveField(model_name="crisisresponse", name="reply_template"),
    ]
