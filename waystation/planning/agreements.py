"""Regional agreements under which a citizen of one member state may enter the others with a
national identity card instead of a passport. Hand-written, each agreement citing what it
rests on and the day someone last checked it: coordinators and maintainers must check an
agreement against its source again before a person relies on it, and whenever its
review date is old.

Only agreements whose membership and basis are well established are listed. Left out
until someone checks them against a primary source:

- the Gulf Cooperation Council: its citizens travel between member states with national ID
  cards, but on a series of decisions and bilateral arrangements rather than one article,
  and several states suspended the practice in 2020 and restored it at different times;
- Venezuela in the MERCOSUR travel documents agreement: a party since 2008, suspended from
  MERCOSUR since 2016;
- Burkina Faso, Mali and Niger, which left ECOWAS in 2025;
- the Andean Community (Decision 503), whose members are all in the MERCOSUR list already.

A card serves only its holder's nationality: an agreement admits citizens of its members,
not residents holding a member's residence card.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_noop

REVIEWED = date(2026, 12, 6)


@dataclass(frozen=True)
class Agreement:
    # Marked for translation, translated where shown: read it through gettext.
    name: str
    members: frozenset[str]
    # A citation, shown as it is, like the sources of the country facts.
    source: str
    reviewed_on: date


# The 27 member states of the European Union, in the EU's protocol order.
# fmt: off
EU = frozenset({
    "BE", "BG", "CZ", "DK", "DE", "EE", "IE", "GR", "ES", "FR", "HR", "IT", "CY", "LV",
    "LT", "LU", "HU", "MT", "NL", "AT", "PL", "PT", "RO", "SI", "SK", "FI", "SE",
})
# fmt: on

AGREEMENTS: tuple[Agreement, ...] = (
    Agreement(
        gettext_noop("free movement of persons of the EU, the EEA and Switzerland"),
        # Iceland, Liechtenstein and Norway through the EEA; Switzerland through its
        # agreement with the EU and, towards the other three, the EFTA Convention.
        EU | {"IS", "LI", "NO", "CH"},
        "Directive 2004/38/EC, article 5(1); EEA Agreement, Annexes V and VIII (EEA Joint "
        "Committee Decision No 158/2007); Agreement between the EC and Switzerland on the "
        "Free Movement of Persons (1999), Annex I, article 1(1); EFTA Convention, Annex K, "
        "Appendix 1, article 1(1)",
        REVIEWED,
    ),
    Agreement(
        # The card accepted is the ECOWAS national biometric identity card, which not every
        # member issues yet: an older national card may be turned away at the border.
        gettext_noop("ECOWAS free movement of persons (with the ECOWAS biometric ID card only)"),
        frozenset({"BJ", "CV", "CI", "GM", "GH", "GN", "GW", "LR", "NG", "SN", "SL", "TG"}),
        "Protocol A/P.1/5/79 relating to Free Movement of Persons, Residence and "
        "Establishment, article 3; decision of the ECOWAS Authority of Heads of State and "
        "Government of December 2014 adopting the ECOWAS National Biometric Identity Card",
        REVIEWED,
    ),
    Agreement(
        gettext_noop("Northern Corridor arrangement of Kenya, Rwanda and Uganda"),
        frozenset({"KE", "RW", "UG"}),
        "Northern Corridor Integration Projects: national identity cards as travel documents "
        "between Kenya, Rwanda and Uganda, agreed at the Entebbe summit of 25 June 2013, in "
        "use since 1 January 2014",
        REVIEWED,
    ),
    Agreement(
        gettext_noop("MERCOSUR agreement on travel documents"),
        frozenset({"AR", "BR", "PY", "UY", "BO", "CL", "CO", "EC", "PE"}),
        "Acuerdo sobre Documentos de Viaje de los Estados Partes del MERCOSUR y Estados "
        "Asociados, article 1 and annex (MERCOSUR/CMC/DEC. No. 18/08, as later amended)",
        REVIEWED,
    ),
    Agreement(
        gettext_noop("Central America-4 Free Mobility Agreement"),
        frozenset({"GT", "SV", "HN", "NI"}),
        "Convenio Centroamericano de Libre Movilidad (CA-4), June 2006",
        REVIEWED,
    ),
)


def card_destinations(cards: Iterable[str]) -> dict[str, tuple[str, Agreement]]:
    """Every country a national ID card of `cards` (ISO alpha-2 codes) enters, with the card
    and the agreement that admits it: the first card in sorted order and the first
    agreement in `AGREEMENTS` when several do. Never a card's own country."""
    held = sorted({code.upper() for code in cards if code})
    found: dict[str, tuple[str, Agreement]] = {}
    for card in held:
        for agreement in AGREEMENTS:
            if card not in agreement.members:
                continue
            for destination in sorted(agreement.members - {card}):
                found.setdefault(destination, (card, agreement))
    return found
