"""Destination options for a person's passports and national ID cards: where they can
legally enter and how safe each place is for them, ranked, every rank explained in words a
caseworker can check against the sources it names. Reads only; the newest visa data set is
the one answered from, and its date is part of the answer.

A rank adds points for the entry requirement (the best any of the passports gives, or a
national ID card under a regional agreement, counted as visa free), the law on same-sex
relations at the destination, whether an asylum claim on SOGIESC grounds is recognized
there in practice, and a rough cost band from the distance to where the person is now; it
takes points for every transit country the caseworker names that criminalizes same-sex
relations.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from . import distance
from .agreements import Agreement, card_destinations
from .models import CountryFacts, VisaDataset, VisaRequirement
from .visa import country_names

Entry = VisaRequirement.Entry
Relations = CountryFacts.Relations
Asylum = CountryFacts.Asylum

# Entry with a national ID card under a regional agreement: an answer of the planner, not of
# the visa data, so no choice of VisaRequirement.Entry.
NATIONAL_ID = "national_id"
# No admission, and the passport's own country, are no destination.
ENTRY_POINTS: dict[str, int] = {
    Entry.VISA_FREE: 40,
    Entry.VISA_ON_ARRIVAL: 35,
    Entry.ETA: 30,
    Entry.E_VISA: 25,
    Entry.VISA_REQUIRED: 5,
}
# No visa, no fee: a card is as good as visa-free entry.
ENTRY_POINTS[NATIONAL_ID] = ENTRY_POINTS[Entry.VISA_FREE]
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
# A country with no facts recorded: every fact unknown. One instance for all of them (read
# only): building a model instance per destination cost a third of the ranking's time.
NOT_RECORDED = CountryFacts()
TRANSIT_POINTS: dict[str, int] = {Relations.CRIMINALIZED: -15, Relations.DEATH_PENALTY: -30}
# "" when the cost cannot be estimated: no bonus, no penalty.
COST_POINTS: dict[str, int] = {distance.LOW: 10, distance.MEDIUM: 5, distance.HIGH: 0, "": 0}


@dataclass(frozen=True)
class Option:
    destination: str
    name: str
    # The country of the document used: the passport, or the national ID card when `entry`
    # is NATIONAL_ID.
    passport: str
    entry: str
    days: int | None
    score: int
    reasons: list[str]
    warnings: list[str]
    # distance.LOW, MEDIUM or HIGH, or "" when not known.
    cost: str = ""


@dataclass(frozen=True)
class Options:
    # The date of the visa data the answer rests on; None when none is imported.
    as_of: date | None
    options: list[Option] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Route:
    document: str
    entry: str
    days: int | None
    agreement: Agreement | None = None


def destination_options(
    passports: Sequence[str],
    *,
    national_ids: Sequence[str] = (),
    origin: str = "",
    transit: Mapping[str, Sequence[str]] | None = None,
    language: str = "en",
) -> Options:
    """Every destination the passports and national ID cards (ISO alpha-2 codes) can enter,
    best first; never a country of the passports or cards. A destination open to both takes
    the better entry, the passport's on a tie. `origin` (ISO alpha-2) is the country the
    person is in now, for the cost band. `transit` names, per destination, the countries a
    usual route stops in. Names are in `language`. The notes name what the answer leaves
    out: with no passport, every route but the ID card ones; a passport the data does not
    know; everything but the ID card routes when no visa data is imported (those rest on
    the agreements, not on the data)."""
    dataset = VisaDataset.objects.order_by("-as_of").first()
    names = dict(country_names(language))
    held = sorted({code.upper() for code in passports if code})
    cards = sorted({code.upper() for code in national_ids if code})
    routes: dict[str, _Route] = {}
    if dataset is None:
        notes = [_("No visa data is imported yet.")]
    elif held:
        routes, known = _best_entries(dataset, held)
        notes = [
            _("The visa data of %(date)s knows nothing of the %(passport)s passport.")
            % {"date": _day(dataset.as_of), "passport": names.get(code, code)}
            for code in held
            if code not in known
        ]
    else:
        notes = _no_passport_notes(cards)
    for destination, (card, agreement) in card_destinations(cards).items():
        current = routes.get(destination)
        if current is None or ENTRY_POINTS[current.entry] < ENTRY_POINTS[NATIONAL_ID]:
            routes[destination] = _Route(card, NATIONAL_ID, None, agreement)
    as_of = dataset.as_of if dataset else None
    if not routes:
        return Options(as_of, notes=notes)
    facts = {row.country: row for row in CountryFacts.objects.all()}
    # A citizen needs no route into their own country.
    own = {*held, *cards}
    options = [
        _option(
            destination,
            route,
            facts,
            (transit or {}).get(destination, ()),
            origin.strip().upper(),
            names,
        )
        for destination, route in routes.items()
        if destination not in own
    ]
    options.sort(key=lambda option: (-option.score, option.name))
    return Options(as_of, options, notes)


def _no_passport_notes(cards: list[str]) -> list[str]:
    if cards:
        return [
            _(
                "No passport: the visa data covers passports only, so only the routes open "
                "to a national ID card are listed. Routes with no document are not listed: "
                "check them with a partner."
            )
        ]
    return [
        _(
            "No passport: the visa data covers passports only. Routes with a national "
            "ID card or with no document are not listed: check them with a partner."
        ),
        _("No national ID card is recorded either."),
    ]


def _best_entries(dataset: VisaDataset, passports: list[str]) -> tuple[dict[str, _Route], set[str]]:
    """Per destination, the passport giving the easiest entry, that entry and its days; and
    the passports the data set holds at all."""
    best: dict[str, _Route] = {}
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
        if current is None or rank > (ENTRY_POINTS[current.entry], current.days or 0):
            best[destination] = _Route(passport, entry, days)
    return best, known


def _option(
    destination: str,
    route: _Route,
    facts: dict[str, CountryFacts],
    transit: Sequence[str],
    origin: str,
    names: dict[str, str],
) -> Option:
    known = facts.get(destination) or NOT_RECORDED
    cost, cost_reason = _cost(origin, destination, route.entry, names)
    reasons = [
        _entry_reason(route, names),
        _relations_reason(known),
        _asylum_reason(known),
        cost_reason,
    ]
    warnings = []
    score = (
        ENTRY_POINTS[route.entry]
        + RELATIONS_POINTS[known.relations]
        + ASYLUM_POINTS[known.asylum]
        # A cheap trip to a country that criminalizes the person is no saving: the cost
        # only orders the places where they would not be prosecuted.
        + (COST_POINTS[cost] if known.relations not in TRANSIT_POINTS else 0)
    )
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
        route.document,
        route.entry,
        route.days,
        score,
        reasons,
        warnings,
        cost,
    )


def _entry_reason(route: _Route, names: dict[str, str]) -> str:
    document = names.get(route.document, route.document)
    if route.agreement is not None:
        return _(
            "Entry with the %(country)s national ID card under the %(agreement)s "
            "(%(source)s, checked %(date)s)."
        ) % {
            "country": document,
            "agreement": _(route.agreement.name),
            "source": route.agreement.source,
            "date": _day(route.agreement.reviewed_on),
        }
    if route.days:
        return _("Visa free for %(days)d days with the %(passport)s passport.") % {
            "days": route.days,
            "passport": document,
        }
    return _("%(entry)s with the %(passport)s passport.") % {
        "entry": str(Entry(route.entry).label).capitalize(),
        "passport": document,
    }


def _cost(origin: str, destination: str, entry: str, names: dict[str, str]) -> tuple[str, str]:
    """The cost band of the trip from `origin` and the reason that explains it."""
    if not origin:
        return "", _(
            "The rough cost could not be estimated: the country the person is in now is not "
            "recorded."
        )
    if origin == destination:
        return distance.LOW, _("Rough cost: low — the person is in %(country)s already.") % {
            "country": names.get(origin, origin)
        }
    km = distance.distance_km(origin, destination)
    if km is None:
        missing = origin if origin not in distance.country_points() else destination
        return "", _(
            "The rough cost could not be estimated: the planner has no location for %(country)s."
        ) % {"country": names.get(missing, missing)}
    # The figure shown, not the exact one, sets the band, so the two never disagree; two
    # capitals a few km apart read "about 100 km" rather than a puzzling 0.
    rounded = max(100, round(km / 100) * 100)
    visa_required = entry == Entry.VISA_REQUIRED
    sentence = _cost_sentence(distance.cost_band(rounded), visa_required)
    return distance.cost_band(rounded, visa_required=visa_required), sentence % {
        "km": number_format(rounded, use_l10n=True, force_grouping=True),
        "origin": names.get(origin, origin),
    }


def _cost_sentence(trip: str, visa_required: bool) -> str:
    # Whole sentences, one per trip and visa, so that each translates as a whole.
    if visa_required and trip == distance.LOW:
        return _(
            "Rough cost: medium — about %(km)s km from %(origin)s, overland or a short "
            "regional flight, plus the visa fee and a visit to an embassy."
        )
    if visa_required and trip == distance.MEDIUM:
        return _(
            "Rough cost: high — about %(km)s km from %(origin)s, a regional flight, plus the "
            "visa fee and a visit to an embassy."
        )
    if visa_required:
        return _(
            "Rough cost: high — about %(km)s km from %(origin)s, a long-haul flight, plus the "
            "visa fee and a visit to an embassy."
        )
    if trip == distance.LOW:
        return _(
            "Rough cost: low — about %(km)s km from %(origin)s, overland or a short regional "
            "flight."
        )
    if trip == distance.MEDIUM:
        return _("Rough cost: medium — about %(km)s km from %(origin)s, a regional flight.")
    return _("Rough cost: high — about %(km)s km from %(origin)s, a long-haul flight.")


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
