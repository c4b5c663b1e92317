"""Destination options for a person's passports: where they can legally enter and how safe
each place is for them, ranked, every rank explained in words a caseworker can check
against the sources it names. Reads only; the newest visa data set is the one answered
from, and its date is part of the answer.

A rank adds points for the entry requirement (the best any of the passports gives), the
law on same-sex relations at the destination, and whether an asylum claim on SOGIESC
grounds is recognized there in practice; it takes points for every transit country the
caseworker names that criminalizes same-sex relations.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import CountryFacts, VisaDataset, VisaRequirement
from .visa import country_names

Entry = VisaRequirement.Entry
Relations = CountryFacts.Relations
Asylum = CountryFacts.Asylum

# No admission, and the passport's own country, are no destination.
ENTRY_POINTS: dict[str, int] = {
    Entry.VISA_FREE: 40,
    Entry.VISA_ON_ARRIVAL: 35,
    Entry.ETA: 30,
    Entry.E_VISA: 25,
    Entry.VISA_REQUIRED: 5,
}
RELATIONS_POINTS: dict[str, int] = {
    Relations.LEGAL: 30,
    Relations.UNKNOWN: 0,
    Relations.CRIMINALIZED: -40,
    Relations.DEATH_PENALTY: -80,
}
ASYLUM_POINTS: dict[str, int] = {
    Asylum.RECOGNIZED: 30,
    Asylum.LIMITED: 10,
    Asylum.UNKNOWN: 0,
    Asylum.NOT_RECOGNIZED: -10,
}
TRANSIT_POINTS: dict[str, int] = {Relations.CRIMINALIZED: -15, Relations.DEATH_PENALTY: -30}


@dataclass(frozen=True)
class Option:
    destination: str
    name: str
    passport: str
    entry: str
    days: int | None
    score: int
    reasons: list[str]
    warnings: list[str]


@dataclass(frozen=True)
class Options:
    # The date of the visa data the answer rests on; None when none is imported.
    as_of: date | None
    options: list[Option] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def destination_options(
    passports: Sequence[str],
    *,
    transit: Mapping[str, Sequence[str]] | None = None,
    language: str = "en",
) -> Options:
    """Every destination the passports (ISO alpha-2 codes) can enter, best first. `transit`
    names, per destination, the countries a usual route stops in. Names are in `language`.
    With no passport, or none the data knows, the answer says so and lists nothing."""
    dataset = VisaDataset.objects.order_by("-as_of").first()
    if dataset is None:
        return Options(None, notes=[_("No visa data is imported yet.")])
    names = dict(country_names(language))
    held = sorted({code.upper() for code in passports if code})
    if not held:
        return Options(
            dataset.as_of,
            notes=[
                _(
                    "No passport: the visa data covers passports only. Routes with a national "
                    "ID card or with no document are not listed: check them with a partner."
                )
            ],
        )
    best, known = _best_entries(dataset, held)
    notes = [
        _("The visa data of %(date)s knows nothing of the %(passport)s passport.")
        % {"date": _day(dataset.as_of), "passport": names.get(code, code)}
        for code in held
        if code not in known
    ]
    facts = {row.country: row for row in CountryFacts.objects.all()}
    options = [
        _option(destination, held_best, facts, (transit or {}).get(destination, ()), names)
        for destination, held_best in best.items()
        if destination not in held
    ]
    options.sort(key=lambda option: (-option.score, option.name))
    return Options(dataset.as_of, options, notes)


def _best_entries(
    dataset: VisaDataset, passports: list[str]
) -> tuple[dict[str, tuple[str, str, int | None]], set[str]]:
    """Per destination, the passport giving the easiest entry, that entry and its days; and
    the passports the data set holds at all."""
    best: dict[str, tuple[str, str, int | None]] = {}
    known: set[str] = set()
    rows = VisaRequirement.objects.filter(dataset=dataset, passport__in=passports).values_list(
        "passport", "destination", "entry", "days"
    )
    for passport, destination, entry, days in rows:
        known.add(passport)
        if entry not in ENTRY_POINTS:
            continue
        current = best.get(destination)
        rank = (ENTRY_POINTS[entry], days or 0)
        if current is None or rank > (ENTRY_POINTS[current[1]], current[2] or 0):
            best[destination] = (passport, entry, days)
    return best, known


def _option(
    destination: str,
    held_best: tuple[str, str, int | None],
    facts: dict[str, CountryFacts],
    transit: Sequence[str],
    names: dict[str, str],
) -> Option:
    passport, entry, days = held_best
    known = facts.get(destination) or CountryFacts(country=destination)
    passport_name = names.get(passport, passport)
    if days:
        reasons = [
            _("Visa free for %(days)d days with the %(passport)s passport.")
            % {"days": days, "passport": passport_name}
        ]
    else:
        reasons = [
            _("%(entry)s with the %(passport)s passport.")
            % {"entry": str(Entry(entry).label).capitalize(), "passport": passport_name}
        ]
    reasons.append(_relations_reason(known))
    reasons.append(_asylum_reason(known))
    warnings = []
    score = ENTRY_POINTS[entry] + RELATIONS_POINTS[known.relations] + ASYLUM_POINTS[known.asylum]
    if known.relations in TRANSIT_POINTS:
        warnings.append(_("Same-sex relations are criminalized here."))
    for stop in dict.fromkeys(code.upper() for code in transit):
        stop_facts = facts.get(stop)
        if stop_facts is None or stop_facts.relations not in TRANSIT_POINTS:
            continue
        score += TRANSIT_POINTS[stop_facts.relations]
        warnings.append(
            _(
                "The route stops in %(country)s, which criminalizes same-sex relations: "
                "a stop there can be a trap."
            )
            % {"country": names.get(stop, stop)}
        )
    return Option(
        destination,
        names.get(destination, destination),
        passport,
        entry,
        days,
        score,
        reasons,
        warnings,
    )


def _relations_reason(facts: CountryFacts) -> str:
    if not facts.relations:
        return _("The law on same-sex relations here is not recorded: check it.")
    cited = {"source": facts.relations_source, "date": _day(facts.relations_reviewed_on)}
    if facts.relations == Relations.LEGAL:
        return _("Same-sex relations are legal (%(source)s, checked %(date)s).") % cited
    if facts.relations == Relations.DEATH_PENALTY:
        return (
            _("Same-sex relations can be punished by death (%(source)s, checked %(date)s).") % cited
        )
    penalty = facts.max_penalty or _("a penalty not recorded")
    return _(
        "Same-sex relations are criminalized, up to %(penalty)s (%(source)s, checked %(date)s)."
    ) % {**cited, "penalty": penalty}


def _asylum_reason(facts: CountryFacts) -> str:
    if not facts.asylum:
        return _("Whether an asylum claim on SOGIESC grounds succeeds here is not recorded.")
    return _("Asylum on SOGIESC grounds: %(status)s (%(source)s, checked %(date)s).") % {
        "status": CountryFacts.Asylum(facts.asylum).label,
        "source": facts.asylum_source,
        "date": _day(facts.asylum_reviewed_on),
    }


def _day(day: date | None) -> str:
    return date_format(day, "DATE_FORMAT") if day else ""
