"""Reading entry requirements in the passport-index "tidy" format
(`Passport,Destination,Requirement`, one pair a line, ISO 3166 alpha-2 or alpha-3 codes).
Nothing here writes: `services.import_visa_requirements` stores what `read` accepts.

Requirement is a number of visa-free days, `-1` (the passport's own country), `visa free`,
`visa on arrival`, `eta`, `e-visa`, `visa required` or `no admission`.
"""

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from babel import Locale
from babel.core import get_global

from .models import VisaRequirement

COLUMNS = ("passport", "destination", "requirement")
Entry = VisaRequirement.Entry
WORDS = {
    "visa free": Entry.VISA_FREE,
    "visa on arrival": Entry.VISA_ON_ARRIVAL,
    "eta": Entry.ETA,
    "e-visa": Entry.E_VISA,
    "visa required": Entry.VISA_REQUIRED,
    "no admission": Entry.NO_ADMISSION,
    "-1": Entry.OWN_COUNTRY,
}
# A stay longer than this many days is no visa-free stay but a typing error.
MAX_DAYS = 3660
# CLDR regions that are no ISO 3166 country: groupings, private use, and places CLDR lists
# apart from the country they belong to (Canary Islands, Ceuta and Melilla, Sark, ...).
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
# Kosovo's codes are user-assigned: CLDR names XK but maps no alpha-3 code to it.
KOSOVO = {"XK": "XK", "XKX": "XK"}
# Problems listed in full; beyond this many, a count.
PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Pair:
    line: int
    passport: str
    destination: str
    entry: str
    days: int | None


@dataclass
class Reading:
    """The pairs of a file, or why it cannot be imported (`problems`, each naming its line)."""

    pairs: list[Pair] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@functools.cache
def country_codes() -> dict[str, str]:
    """Every accepted code (alpha-2 or alpha-3, upper case) and the alpha-2 code it names."""
    countries = {
        str(code)
        for code in Locale.parse("en").territories
        if len(str(code)) == 2 and str(code).isalpha() and code not in NOT_COUNTRIES
    }
    codes: dict[str, str] = {code: code for code in countries}
    for alias, targets in get_global("territory_aliases").items():
        # Three-letter codes only: two-letter aliases are retired codes (YU, BU), not ISO.
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in countries:
            codes[alias] = targets[0]
    return {**codes, **KOSOVO}


def country_names(language: str) -> list[tuple[str, str]]:
    """Every country the planner knows (`country_codes`), named in `language` by CLDR
    (English for a language it does not know), in the order of those names."""
    try:
        names = Locale.parse(language.replace("-", "_")).territories
    except (ValueError, TypeError):
        names = Locale.parse("en").territories
    codes = set(country_codes().values())
    return sorted(((code, str(names.get(code, code))) for code in codes), key=lambda c: c[1])


def requirement(text: str) -> tuple[str, int | None] | None:
    """The entry and visa-free days a Requirement cell says, or None if it says neither."""
    value = " ".join(text.split()).casefold()
    if value in WORDS:
        return WORDS[value], None
    if value.isdigit() and 0 < int(value) <= MAX_DAYS:
        return Entry.VISA_FREE, int(value)
    return None


def read(lines: Iterable[bytes]) -> Reading:
    """Every pair of the file's lines (as bytes, a file opened in binary mode), or every
    problem found: not UTF-8, wrong columns, wrong field counts, unknown codes, unreadable
    requirements, pairs given twice. Reads on after a problem, so one report lists all."""
    reading = Reading()
    codes = country_codes()
    first_seen: dict[tuple[str, str], int] = {}
    text_lines = decoded_lines(lines, reading.problems)
    rows = csv.reader(text_lines)
    header_checked = False
    for row in rows:
        number = rows.line_num
        if not header_checked:
            header_checked = True
            names = tuple(cell.strip().lstrip("\ufeff").casefold() for cell in row)
            if names != COLUMNS:
                reading.problems.append(
                    f"line {number}: expected the columns Passport,Destination,Requirement; "
                    f"found {','.join(row) or 'nothing'}"
                )
                return reading
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            reading.problems.append(f"line {number}: expected 3 fields, found {len(row)}")
            continue
        passport, destination, cell = (cell.strip() for cell in row)
        pair = _pair(number, passport, destination, cell, codes, reading)
        if pair is None:
            continue
        key = (pair.passport, pair.destination)
        if key in first_seen:
            reading.problems.append(
                f"line {number}: {passport} to {destination} again (first on line "
                f"{first_seen[key]})"
            )
            continue
        first_seen[key] = number
        reading.pairs.append(pair)
    if not header_checked:
        reading.problems.append("line 1: the file is empty")
    return reading


def _pair(
    number: int, passport: str, destination: str, cell: str, codes: dict[str, str], reading: Reading
) -> Pair | None:
    problems = []
    for label, code in (("passport", passport), ("destination", destination)):
        if code.upper() not in codes:
            problems.append(f"line {number}: unknown {label} country code {code!r}")
    found = requirement(cell)
    if found is None:
        problems.append(f"line {number}: unknown requirement {cell!r}")
    if problems or found is None:
        reading.problems.extend(problems)
        return None
    return Pair(number, codes[passport.upper()], codes[destination.upper()], *found)


def decoded_lines(lines: Iterable[bytes], problems: list[str]) -> Iterable[str]:
    """The lines as text; a line that is not UTF-8 is reported by its number and read as
    blank, so later lines keep theirs (a file saved from several editors mixes encodings:
    no guess is safe for a code)."""
    for number, raw in enumerate(lines, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: not UTF-8 text")
            yield "\n"


def report(problems: list[str]) -> str:
    """The problems as lines of text, the first PROBLEMS_SHOWN in full."""
    shown = problems[:PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    return "\n".join([*shown, *([f"… and {more} more"] if more else [])])
