"""A first scoring rubric for the Case Committee, which coordinators change: immediacy of
risk, strength of verification, feasibility of the plan, cost (a cheaper plan scores
higher), and vulnerability."""

from decimal import Decimal
from typing import Any

from django.db import migrations

SEED = [
    ("Immediacy of risk", "How soon the person is in danger where they are.", "3"),
    ("Strength of verification", "How well the sources and evidence support the request.", "2"),
    ("Feasibility of the plan", "How likely the pathway is to succeed as planned.", "2"),
    ("Cost", "Score higher for a lower cost for what the plan achieves.", "1"),
    ("Vulnerability", "Health, age, dependants, isolation.", "2"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    criterion = apps.get_model("funding", "Criterion")
    if criterion.objects.exists():
        return
    criterion.objects.bulk_create(
        criterion(name=name, description=description, weight=Decimal(weight), scale=5, position=i)
        for i, (name, description, weight) in enumerate(SEED)
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    criterion = apps.get_model("funding", "Criterion")
    criterion.objects.filter(name__in=[name for name, _d, _w in SEED]).delete()


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_funds_committee_ledger")]

    operations = [migrations.RunPython(seed, unseed)]
