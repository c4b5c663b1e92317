"""A first plan template for each pathway: the usual steps, who does each and when it is
due after the plan starts. Coordinators change them for their organization's practice."""

from typing import Any

from django.db import migrations

C, P = "caseworker", "person"

SEED: dict[str, list[tuple[str, str, int]]] = {
    "inland_asylum": [
        (C, "Confirm the destination and that an asylum claim can be made on arrival", 0),
        (P, "Gather identity and travel documents (a passport valid for 6 more months)", 7),
        (C, "Find a lawyer or refugee legal aid organization at the destination", 14),
        (C, "Apply for the visa or travel authorization the route needs", 21),
        (C, "Prepare the evidence dossier for the claim", 28),
        (C, "Book travel on a route with no stop in a criminalizing country", 35),
        (P, "Travel and confirm a safe arrival", 42),
        (P, "Lodge the asylum claim", 49),
        (C, "Hand over to the support team at the destination", 56),
    ],
    "refugee_referral": [
        (C, "Check that the person can register with UNHCR where they are or can go", 0),
        (P, "Register with UNHCR and keep the registration document", 14),
        (C, "Send the resettlement referral to UNHCR or a referring partner", 21),
        (P, "Attend the resettlement interview", 90),
        (C, "Follow up the resettlement decision", 120),
        (C, "Prepare departure with the resettlement country", 180),
    ],
    "private_sponsorship": [
        (C, "Find a sponsor group in the destination country", 0),
        (C, "Check the person's eligibility for the sponsorship programme", 14),
        (P, "Complete the application forms with the sponsor group", 30),
        (C, "Submit the sponsorship application", 45),
        (C, "Follow up the application", 120),
        (C, "Plan travel and arrival with the sponsor group", 180),
    ],
    "government_programme": [
        (C, "Check the programme's criteria and places", 0),
        (P, "Gather the documents the programme asks for", 14),
        (C, "Submit the referral or application to the programme", 30),
        (C, "Follow up the programme's decision", 90),
        (C, "Plan travel with the programme", 120),
    ],
    "study": [
        (P, "Choose schools and apply for admission", 0),
        (P, "Obtain the letter of admission", 60),
        (C, "Prepare proof of funds for the study visa", 75),
        (P, "Apply for the study visa", 90),
        (C, "Book travel", 120),
    ],
    "work": [
        (C, "Check the work visa routes the person qualifies for", 0),
        (P, "Obtain a job offer or an employer's sponsorship", 30),
        (P, "Apply for the work visa", 60),
        (C, "Book travel", 90),
    ],
    "family": [
        (C, "Check the family reunification or family visa rules at the destination", 0),
        (P, "Gather proof of the family relationship", 14),
        (P, "Apply for the family visa", 30),
        (C, "Book travel", 90),
    ],
}


def seed(apps: Any, schema_editor: Any) -> None:
    step = apps.get_model("planning", "TemplateStep")
    step.objects.bulk_create(
        step(pathway=pathway, owner=owner, title=title, days=days, position=position)
        for pathway, steps in SEED.items()
        for position, (owner, title, days) in enumerate(steps)
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    step = apps.get_model("planning", "TemplateStep")
    for pathway, steps in SEED.items():
        step.objects.filter(pathway=pathway, title__in=[title for _o, title, _d in steps]).delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0004_case_documents_and_plans")]

    operations = [migrations.RunPython(seed, unseed)]
