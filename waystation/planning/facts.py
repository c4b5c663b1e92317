"""Reading country facts from a CSV file: one line per country, named in English or by its
ISO code, with any of the fact columns. Nothing here writes: `services.import_country_facts`
stores what `read` accepts. Names that match no country are reported with the closest
country name, so a typo ("Botswanna") or a place that is no country ("Canary Islands")
is plain to see.

Columns (any case; the names in brackets are read too):
  country [entity]                       required: an English name or an ISO code
  same_sex_relations [same-sex sexual activity]   legal, criminalized (illegal), death penalty
  max_penalty [maximum penalty]          free text
  gender_recognition [legal gender recognition]   available, restricted, none
  sogiesc_asylum [asylum]                recognized, limited, not recognized
  safety_notes                           free text
Other columns are left unread, and named in the report. An empty cell gives no fact.
"""

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, process

from . import visa
from .models import CountryFacts

HEADERS = {
    "country": "country",
    "entity": "country",
    "same_sex_relations": "relations",
    "same-sex sexual activity": "relations",
    "max_penalty": "max_penalty",
    "maximum penalty": "max_penalty",
    "gender_recognition": "recognition",
    "legal gender recognition": "recognition",
    "sogiesc_asylum": "asylum",
    "asylum": "asylum",
    "safety_notes": "safety_notes",
}
VALUES: dict[str, dict[str, str]] = {
    "relations": {
        "legal": CountryFacts.Relations.LEGAL,
        "criminalized": CountryFacts.Relations.CRIMINALIZED,
        "criminalised": CountryFacts.Relations.CRIMINALIZED,
        "illegal": CountryFacts.Relations.CRIMINALIZED,
        # Criminalized for men: the country criminalizes same-sex relations.
        "male illegal, female legal": CountryFacts.Relations.CRIMINALIZED,
        "death penalty": CountryFacts.Relations.DEATH_PENALTY,
    },
    "recognition": {
        "available": CountryFacts.Recognition.AVAILABLE,
        "restricted": CountryFacts.Recognition.RESTRICTED,
        "none": CountryFacts.Recognition.NONE,
    },
    "asylum": {
        "recognized": CountryFacts.Asylum.RECOGNIZED,
        "recognised": CountryFacts.Asylum.RECOGNIZED,
        "limited": CountryFacts.Asylum.LIMITED,
        "not recognized": CountryFacts.Asylum.NOT_RECOGNIZED,
        "not recognised": CountryFacts.Asylum.NOT_RECOGNIZED,
    },
}
TEXT_LIMITS = {"max_penalty": 120, "safety_notes": 4000}
# Names in common use that CLDR's English names do not give.
ALIASES = {
    "ivory coast": "CI",
    "cote divoire": "CI",
    "turkey": "TR",
    "czech republic": "CZ",
    "burma": "MM",
    "myanmar": "MM",
    "swaziland": "SZ",
    "macedonia": "MK",
    "east timor": "TL",
    "cabo verde": "CV",
    "democratic republic of the congo": "CD",
    "dr congo": "CD",
    "republic of the congo": "CG",
    "united states of america": "US",
    "usa": "US",
    "great britain": "GB",
    "palestine": "PS",
    "state of palestine": "PS",
    "hong kong": "HK",
    "macau": "MO",
    "the gambia": "GM",
    "the bahamas": "BS",
    "vatican": "VA",
    "holy see": "VA",
    "north korea": "KP",
    "south korea": "KR",
    "micronesia": "FM",
    "federated states of micronesia": "FM",
}
# A suggestion must be at least this close (rapidfuzz's ratio of the folded names, 0-100).
SUGGESTION_SCORE = 80


@dataclass(frozen=True)
class Row:
    line: int
    country: str
    facts: dict[str, str]


@dataclass
class Reading:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Columns found but not read (the report names them).
    ignored: list[str] = field(default_factory=list)


def _key(name: str) -> str:
    """A name folded for matching: ASCII, lower case, punctuation and "the" left out, "&"
    read as "and" and "St." as "Saint" (CLDR writes "St. Kitts & Nevis")."""
    folded = anyascii(name).casefold().replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", folded).split()
    return " ".join("saint" if word == "st" else word for word in words if word != "the")


@functools.cache
def _names() -> dict[str, str]:
    """Every accepted name or code, folded, and the country code it names."""
    names = {_key(code): country for code, country in visa.country_codes().items()}
    for code, name in visa.country_names("en"):
        names[_key(name)] = code
        # CLDR's "Myanmar (Burma)", "Congo - Kinshasa": the part before the bracket too.
        names.setdefault(_key(re.split(r" \(| - ", name)[0]), code)
    names.update({_key(alias): code for alias, code in ALIASES.items()})
    return names


def country_code(name: str) -> str | None:
    """The ISO code a country name or code stands for, or None."""
    return _names().get(_key(name))


def closest_name(name: str) -> str | None:
    """The English name of the country whose name is closest to `name`, if one is close."""
    choices = dict(visa.country_names("en"))
    found = process.extractOne(
        name, choices, scorer=fuzz.ratio, processor=_key, score_cutoff=SUGGESTION_SCORE
    )
    return found[0] if found else None


def read(lines: Iterable[bytes]) -> Reading:
    """Every row of the file (lines as bytes), or every problem found: no country column,
    no fact column, names matching no country, a country given twice, values not understood,
    texts too long, lines not UTF-8."""
    reading = Reading()
    text = visa.decoded_lines(lines, reading.problems)
    rows = csv.reader(text)
    header = next(rows, None)
    if header is None:
        reading.problems.append("line 1: the file is empty")
        return reading
    columns: dict[int, str] = {}
    for position, name in enumerate(header):
        target = HEADERS.get(" ".join(name.strip().lstrip("\ufeff").split()).casefold())
        if target is None or target in columns.values():
            reading.ignored.append(name.strip())
        else:
            columns[position] = target
    if "country" not in columns.values():
        reading.problems.append("line 1: no country column (country or entity)")
    if set(columns.values()) <= {"country"}:
        reading.problems.append(
            "line 1: no fact column (same_sex_relations, max_penalty, gender_recognition, "
            "sogiesc_asylum or safety_notes)"
        )
    if reading.problems:
        return reading
    seen: dict[str, int] = {}
    for row in rows:
        number = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        cells = {target: row[p].strip() if p < len(row) else "" for p, target in columns.items()}
        _row(number, cells, seen, reading)
    return reading


def _row(number: int, cells: dict[str, str], seen: dict[str, int], reading: Reading) -> None:
    name = cells.pop("country")
    code = country_code(name) if name else None
    if code is None:
        close = closest_name(name) if name else None
        hint = f" (closest: {close})" if close else ""
        reading.problems.append(f"line {number}: no country called {name!r}{hint}")
        return
    if code in seen:
        reading.problems.append(f"line {number}: {name} again (first on line {seen[code]})")
        return
    seen[code] = number
    facts: dict[str, Any] = {}
    for target, value in cells.items():
        if not value:
            continue
        if target in VALUES:
            known = VALUES[target].get(" ".join(value.split()).casefold())
            if known is None:
                reading.problems.append(f"line {number}: {target} {value!r} is not understood")
                continue
            facts[target] = known
        elif len(value) > TEXT_LIMITS[target]:
            reading.problems.append(
                f"line {number}: {target} is longer than {TEXT_LIMITS[target]} characters"
            )
        else:
            facts[target] = value
    reading.rows.append(Row(number, code, facts))
