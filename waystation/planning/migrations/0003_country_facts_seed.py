"""A small, hand-written seed of country facts, each citing the law or decision it rests
on. Coordinators review and extend them; the planner shows every fact with its source and
the date it was last reviewed."""

from datetime import date
from typing import Any

from django.db import migrations

REVIEWED = date(2026, 12, 4)

SEED: dict[str, dict[str, str]] = {
    "UG": {
        "relations": "death_penalty",
        "max_penalty": "death (aggravated homosexuality)",
        "relations_source": "Anti-Homosexuality Act, 2023 (Uganda), sections 2 and 3",
    },
    "KE": {
        "relations": "criminalized",
        "max_penalty": "14 years",
        "relations_source": "Penal Code (Cap. 63, Kenya), sections 162 to 165",
    },
    "NG": {
        "relations": "death_penalty",
        "max_penalty": "death under the Sharia penal codes of northern states; 14 years",
        "relations_source": (
            "Criminal Code Act (Nigeria), section 214; Same Sex Marriage (Prohibition) Act "
            "2013; Sharia penal codes of twelve northern states"
        ),
    },
    "GH": {
        "relations": "criminalized",
        "max_penalty": "3 years",
        "relations_source": "Criminal Offences Act, 1960 (Act 29, Ghana), section 104",
    },
    "ZA": {
        "relations": "legal",
        "relations_source": (
            "Constitution of South Africa, section 9(3); National Coalition for Gay and "
            "Lesbian Equality v Minister of Justice (Constitutional Court, 1998)"
        ),
    },
    "CA": {
        "relations": "legal",
        "relations_source": "Criminal Law Amendment Act, 1968-69 (Canada)",
        "asylum": "recognized",
        "asylum_source": (
            "Immigration and Refugee Board of Canada, Chairperson's Guideline 9: "
            "Proceedings Involving Sexual Orientation, Gender Identity and Expression, "
            "and Sex Characteristics"
        ),
    },
    "DE": {
        "relations": "legal",
        "relations_source": "Strafgesetzbuch section 175, repealed in 1994",
        "recognition": "available",
        "recognition_source": "Selbstbestimmungsgesetz (SBGG), in force since 1 November 2024",
        "asylum": "recognized",
        "asylum_source": "Directive 2011/95/EU, article 10(1)(d); Asylgesetz section 3b(1) no. 4",
    },
    "AR": {
        "relations": "legal",
        "relations_source": "Código Penal de la Nación Argentina (no offence since 1887)",
        "recognition": "available",
        "recognition_source": "Ley 26.743 de Identidad de Género (2012)",
    },
    "RU": {
        "relations": "legal",
        "relations_source": "Criminal Code of the RSFSR, article 121, repealed in 1993",
        "recognition": "none",
        "recognition_source": "Federal Law No. 386-FZ of 24 July 2023",
        "safety_notes": (
            "The Supreme Court declared the \"international LGBT movement\" extremist: "
            "showing its symbols or taking part can be prosecuted."
        ),
        "safety_source": "Supreme Court of the Russian Federation, decision of 30 November 2023",
    },
}


def seed(apps: Any, schema_editor: Any) -> None:
    CountryFacts = apps.get_model("planning", "CountryFacts")
    for country, facts in SEED.items():
        dated = {
            f"{fact}_reviewed_on": REVIEWED
            for fact in ("relations", "recognition", "asylum", "safety")
            if f"{fact}_source" in facts
        }
        CountryFacts.objects.get_or_create(country=country, defaults={**facts, **dated})


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("planning", "CountryFacts").objects.filter(country__in=list(SEED)).delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0002_country_facts")]

    operations = [migrations.RunPython(seed, unseed)]
