"""Synthetic cases for benchmarks and demos: a million in a few minutes, spread the way real
work spreads (countries, regions, languages, risk, three years of requests in every state).

Each case comes with its keyring, its request and its timeline (one event per move). Rows are
built directly and inserted a batch at a time, without the intake and case services: those
seal, hash and audit per request and would take hours. The rows hold no plausible personal
data: sealed fields stay empty, keys and follow-up lookups are random bytes, staff are
`synthetic-caseworker-N@example.invalid` accounts without keys or a usable password. One
audit entry records the whole run.

Never on real data: `seed_cases` refuses unless demo mode is on or WAYSTATION_ALLOW_SYNTHETIC=1
is set for this one run (on a scratch database).
"""

import operator
import os
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from waystation.accounts.models import Membership, Role, Team, User
from waystation.audit.services import log_action
from waystation.intake.codes import REFERENCE_ALPHABET
from waystation.intake.models import HelpRequest
from waystation.vault.models import Keyring

from .models import RISK_RANK, Case, CaseEvent, Reason, State
from .workflow import ENDED, MAIN_PATH

BATCH = 10_000
# While seeding on SQLite: page cache (1 GiB, used as the database grows) and WAL pages
# between checkpoints (200 MB).
SQLITE_CACHE_KIB = 1024 * 1024
SQLITE_CHECKPOINT_PAGES = 50_000
SPAN = timedelta(days=3 * 365)
STAFF_DOMAIN = "example.invalid"
TEAMS = 2
STAFF_PER_TEAM = 4


class SyntheticRefusedError(Exception):
    """Neither demo mode nor WAYSTATION_ALLOW_SYNTHETIC=1: this may be a real database."""


def allowed() -> bool:
    # Read at call time and not a setting: a one-off permission given to one command on a
    # scratch database, never part of a deployment's configuration.
    return settings.DEMO_MODE or os.environ.get("WAYSTATION_ALLOW_SYNTHETIC") == "1"


@dataclass(frozen=True)
class Country:
    code: str
    weight: float
    # Interface languages (from settings.LANGUAGES) people there write in, weighted: "en:3 sw:1".
    languages: str
    # The more common first: "Lagos, FCT, Kano".
    regions: str


# A dozen countries carry most requests; a long tail carries the rest.
COUNTRIES = [
    Country("NG", 18, "en:1", "Lagos, FCT, Kano, Rivers, Oyo, Kaduna, Enugu"),
    Country("KE", 10, "en:3 sw:2", "Nairobi, Mombasa, Kisumu, Nakuru, Kiambu"),
    Country("UG", 9, "en:3 sw:1", "Central, Kampala, Western, Eastern, Northern"),
    Country("GH", 7, "en:1", "Greater Accra, Ashanti, Central, Volta, Northern"),
    Country("RU", 6, "ru:1", "Moscow, Saint Petersburg, Chechnya, Dagestan, Tatarstan"),
    Country("IR", 5, "fa:1", "Tehran, Isfahan, Khorasan Razavi, Fars, East Azerbaijan"),
    Country("EG", 5, "ar:4 en:1", "Cairo, Giza, Alexandria, Dakahlia, Sharqia"),
    Country("TR", 4, "tr:1", "Istanbul, Ankara, Izmir, Bursa, Antalya"),
    Country("JM", 4, "en:1", "Kingston, St. Andrew, St. Catherine, St. James"),
    Country("MY", 3, "en:1", "Kuala Lumpur, Selangor, Johor, Penang, Sabah"),
    Country("PK", 3, "en:1", "Punjab, Sindh, Khyber Pakhtunkhwa, Islamabad"),
    Country("UA", 3, "uk:3 ru:1", "Kyiv, Kharkiv, Odesa, Dnipro, Lviv"),
    Country("CM", 2, "fr:3 en:1", "Centre, Littoral, West, North-West"),
    Country("TZ", 2, "sw:2 en:1", "Dar es Salaam, Arusha, Zanzibar, Mwanza"),
    Country("SN", 1.5, "fr:1", "Dakar, Thiès, Saint-Louis"),
    Country("ET", 1.2, "en:1", "Addis Ababa, Oromia, Amhara"),
    Country("IQ", 1.2, "ar:1", "Baghdad, Basra, Erbil, Nineveh"),
    Country("SA", 1, "ar:1", "Riyadh, Makkah, Eastern Province"),
    Country("LB", 1, "ar:3 fr:1 en:1", "Beirut, Mount Lebanon, North"),
    Country("MA", 1, "ar:2 fr:1", "Casablanca-Settat, Rabat-Salé-Kénitra, Marrakesh-Safi"),
    Country("DZ", 0.8, "ar:2 fr:1", "Algiers, Oran, Constantine"),
    Country("TN", 0.8, "ar:2 fr:1", "Tunis, Sfax, Sousse"),
    Country("AF", 0.8, "fa:1", "Kabul, Herat, Balkh"),
    Country("SY", 0.7, "ar:1", "Damascus, Aleppo, Homs"),
    Country("CD", 0.7, "fr:1", "Kinshasa, Nord-Kivu, Haut-Katanga"),
    Country("CI", 0.6, "fr:1", "Abidjan, Bouaké, Yamoussoukro"),
    Country("ZM", 0.6, "en:1", "Lusaka, Copperbelt, Southern"),
    Country("ZW", 0.6, "en:1", "Harare, Bulawayo, Manicaland"),
    Country("KZ", 0.5, "ru:1", "Almaty, Astana, Shymkent"),
    Country("UZ", 0.5, "ru:1", "Tashkent, Samarkand, Fergana"),
    Country("BY", 0.5, "ru:1", "Minsk, Gomel, Brest"),
    Country("AZ", 0.4, "ru:1 en:1", "Baku, Ganja, Sumgait"),
    Country("BD", 0.4, "en:1", "Dhaka, Chittagong, Sylhet"),
    Country("ID", 0.4, "en:1", "Jakarta, Aceh, West Java"),
    Country("HN", 0.4, "es:1", "Francisco Morazán, Cortés, Atlántida"),
    Country("SV", 0.3, "es:1", "San Salvador, Santa Ana, San Miguel"),
    Country("GT", 0.3, "es:1", "Guatemala, Quetzaltenango, Escuintla"),
    Country("VE", 0.3, "es:1", "Caracas, Zulia, Carabobo"),
    Country("AO", 0.3, "pt:1", "Luanda, Huambo, Benguela"),
    Country("MZ", 0.3, "pt:1", "Maputo, Nampula, Sofala"),
    Country("BR", 0.3, "pt:1", "São Paulo, Rio de Janeiro, Bahia"),
    Country("YE", 0.2, "ar:1", "Sana'a, Aden, Taiz"),
]

RISKS = (("now", 15), ("weeks", 35), ("ongoing", 50))

# States by the age of the request: recent ones wait for triage, old ones have ended, and a
# few thousand in a million are somewhere along the way.
AGES = (
    (
        timedelta(days=3),
        {State.NEW: 80, State.TRIAGED: 10, State.DUPLICATE: 5, State.DECLINED: 3,
         State.IN_VERIFICATION: 2},
    ),
    (
        timedelta(days=14),
        {State.NEW: 45, State.TRIAGED: 25, State.IN_VERIFICATION: 10, State.DUPLICATE: 8,
         State.DECLINED: 8, State.REFERRED: 2, State.ON_HOLD: 1, State.QUARANTINED: 1},
    ),
    (
        timedelta(days=90),
        {State.NEW: 3, State.TRIAGED: 10, State.IN_VERIFICATION: 10, State.VERIFIED: 6,
         State.PLANNING: 5, State.AWAITING_FUNDING: 5, State.ON_HOLD: 3, State.QUARANTINED: 0.5,
         State.DECLINED: 30, State.DUPLICATE: 12, State.REFERRED: 6, State.WITHDRAWN: 6.5,
         State.FUNDED: 1, State.TRAVELLING: 1, State.ARRIVED: 1},
    ),
    (
        timedelta(days=365),
        {State.NEW: 0.1, State.TRIAGED: 0.3, State.IN_VERIFICATION: 0.5, State.VERIFIED: 0.5,
         State.PLANNING: 1, State.AWAITING_FUNDING: 2, State.FUNDED: 1, State.TRAVELLING: 1,
         State.ARRIVED: 1, State.IN_SUPPORT: 3, State.ON_HOLD: 1.5, State.QUARANTINED: 0.2,
         State.CLOSED: 15, State.DECLINED: 45, State.DUPLICATE: 15, State.REFERRED: 7,
         State.WITHDRAWN: 7},
    ),
    (
        SPAN,
        {State.IN_SUPPORT: 0.5, State.ON_HOLD: 0.3, State.CLOSED: 20, State.DECLINED: 50,
         State.DUPLICATE: 15, State.REFERRED: 7, State.WITHDRAWN: 7},
    ),
)  # fmt: skip

# Where a case was when it left the main path (weighted), and the reasons it may give.
LEFT_FROM = {
    State.CLOSED: {State.IN_SUPPORT: 8, State.ARRIVED: 2},
    State.DECLINED: {State.NEW: 30, State.TRIAGED: 40, State.IN_VERIFICATION: 20,
                     State.VERIFIED: 7, State.PLANNING: 3},
    State.DUPLICATE: {State.NEW: 60, State.TRIAGED: 35, State.IN_VERIFICATION: 5},
    State.REFERRED: {State.TRIAGED: 60, State.IN_VERIFICATION: 25, State.VERIFIED: 10,
                     State.PLANNING: 5},
    State.WITHDRAWN: {State.TRIAGED: 30, State.IN_VERIFICATION: 25, State.VERIFIED: 15,
                      State.PLANNING: 15, State.AWAITING_FUNDING: 15},
    State.ON_HOLD: {State.TRIAGED: 20, State.IN_VERIFICATION: 30, State.VERIFIED: 15,
                    State.PLANNING: 15, State.AWAITING_FUNDING: 20},
    State.QUARANTINED: {State.TRIAGED: 40, State.IN_VERIFICATION: 40, State.VERIFIED: 20},
}  # fmt: skip
REASONS = {
    State.CLOSED: (Reason.SUPPORT_ENDED, Reason.PERSON_SAFE),
    State.DECLINED: (Reason.OUTSIDE_MANDATE, Reason.NOT_REACHABLE, Reason.NOT_VERIFIABLE,
                     Reason.NO_FUNDS),
    State.REFERRED: (Reason.OTHER_ORGANIZATION, Reason.OUTSIDE_MANDATE),
    State.WITHDRAWN: (Reason.PERSON_WITHDREW, Reason.PERSON_SAFE, Reason.NOT_REACHABLE),
    State.QUARANTINED: (Reason.SUSPECTED_FRAUD, Reason.SUSPECTED_ENTRAPMENT),
}  # fmt: skip
# Typical days from a request to its last move, for cases that ended.
DAYS_TO_END = {State.CLOSED: 240, State.DUPLICATE: 5, State.DECLINED: 25}
ENDED_DAYS = 40
# A duplicate repeats one of the requests received just before it (in a batch of 10,000
# over three years, 50 span about five days).
DUPLICATE_WINDOW = 50
MAIN = [state.value for state in MAIN_PATH]


@dataclass(frozen=True)
class Seeded:
    cases: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


Row = dict[str, Any]
Weighted = tuple[list[str], list[float]]
# The ids of a synthetic caseworker and of their team.
Staff = tuple[uuid.UUID, uuid.UUID]


def _weighted(table: Mapping[Any, float]) -> Weighted:
    """Values and cumulative weights, built once for `random.choices`."""
    cumulative, total = [], 0.0
    for weight in table.values():
        total += weight
        cumulative.append(total)
    return [str(value) for value in table], cumulative


def _as_is(value: Any) -> Any:
    return value


def _naive_text(value: datetime) -> str:
    return str(value.replace(tzinfo=None))


def _adapters() -> tuple[Callable[[datetime], Any], Callable[[uuid.UUID], Any]]:
    """How the database driver takes a datetime and a UUID, as the ORM adapts them: rows are
    built with driver values, since adapting each through the ORM took longer than inserting.
    """
    sample = timezone.now()
    adapted = connection.ops.adapt_datetimefield_value(sample)
    when: Callable[[datetime], Any] = connection.ops.adapt_datetimefield_value
    if adapted is sample:
        when = _as_is
    elif adapted == _naive_text(sample):
        # SQLite in UTC: the same text as the ORM's, four times faster (every value here is
        # UTC, derived from timezone.now()).
        when = _naive_text
    key = _as_is if connection.features.has_native_uuid_field else operator.attrgetter("hex")
    return when, key


class _Generator:
    """Draws synthetic rows as dicts of column values, ready for the database driver."""

    def __init__(self, rng: random.Random, staff: list[Staff], now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.when, self.key = _adapters()
        self.staff = [(self.key(user), self.key(team)) for user, team in staff]
        self.country_weights = _weighted({c.code: c.weight for c in COUNTRIES})[1]
        self.languages = [
            _weighted({code: float(w) for code, w in (p.split(":") for p in c.languages.split())})
            for c in COUNTRIES
        ]
        self.regions = [
            _weighted({r: 1 / (i + 1) for i, r in enumerate(c.regions.split(", "))})
            for c in COUNTRIES
        ]
        self.risks = _weighted(dict(RISKS))
        self.ages = [(limit, _weighted(states)) for limit, states in AGES]
        self.left_from = {str(state): _weighted(table) for state, table in LEFT_FROM.items()}
        self.response = timedelta(days=settings.RESPONSE_DAYS)

    def pick(self, weighted: Weighted) -> str:
        values, cumulative = weighted
        return self.rng.choices(values, cum_weights=cumulative)[0]

    def state(self, age: timedelta) -> str:
        for limit, weighted in self.ages:
            if age < limit:
                return self.pick(weighted)
        return self.pick(self.ages[-1][1])

    def batch(self, references: list[str]) -> dict[type[models.Model], list[Row]]:
        """A case for each reference, received over the last three years, oldest first,
        with their keyrings, requests and timelines."""
        rng, when, key = self.rng, self.when, self.key
        received = sorted(self.now - SPAN * rng.random() for _ in references)
        keyrings: list[Row] = []
        requests: list[Row] = []
        cases: list[Row] = []
        events: list[Row] = []
        request_of: dict[Any, Any] = {}
        for index, received_at in enumerate(received):
            number = rng.choices(range(len(COUNTRIES)), cum_weights=self.country_weights)[0]
            risk = self.pick(self.risks)
            region = self.pick(self.regions[number]) if rng.random() < 0.9 else ""
            language = self.pick(self.languages[number])
            state = self.state(self.now - received_at)
            if state == State.DUPLICATE and index == 0:
                # The first of a batch has nothing earlier to duplicate.
                state = State.DECLINED.value
            at = when(received_at)
            keyring: Row = {"id": key(uuid.uuid4()), "created_at": at}
            request: Row = {
                "id": key(uuid.uuid4()),
                "keyring_id": keyring["id"],
                "reference": references[index],
                "received_at": at,
                "country": COUNTRIES[number].code,
                "region": region,
                "risk": risk,
                "language": language,
                "consented_at": at,
                "follow_up_lookup": secrets.token_hex(32),
                "person_public_key": os.urandom(32),
                "follow_up_used_at": at,
                "inbox_public_key": os.urandom(32),
            }
            case: Row = {
                "id": key(uuid.uuid4()),
                "reference": references[index],
                "request_id": request["id"],
                "keyring_id": keyring["id"],
                "state": state,
                "state_changed_at": at,
                "risk_rank": RISK_RANK[risk],
                "country": request["country"],
                "region": region,
                "language": language,
                "received_at": at,
                "answer_due_at": when(received_at + self.response),
            }
            if state == State.DUPLICATE:
                # Of a case received shortly before (the batch is in time order), and of the
                # first of its kind, as intake links them.
                original = cases[rng.randrange(max(0, index - DUPLICATE_WINDOW), index)]
                first = original.get("duplicate_of_id") or original["id"]
                case["duplicate_of_id"] = first
                request["duplicate_of_id"] = request_of[first]
            request_of[case["id"]] = request["id"]
            self.assign(case)
            events += self.history(case, received_at)
            keyrings.append(keyring)
            requests.append(request)
            cases.append(case)
        return {Keyring: keyrings, HelpRequest: requests, Case: cases, CaseEvent: events}

    def assign(self, case: Row) -> None:
        roll = self.rng.random()
        if case["state"] == State.NEW:
            # A few new cases are picked up before triage.
            roll = roll * 10 if roll < 0.05 else 1.0
        if roll < 0.5:
            case["assigned_to_id"], case["team_id"] = self.rng.choice(self.staff)
        elif roll < 0.7:
            case["team_id"] = self.rng.choice(self.staff)[1]

    def history(self, case: Row, received_at: datetime) -> list[Row]:
        """The case's moves from new to its state; sets answered_at, state_changed_at,
        reason and resume_state to match."""
        state = case["state"]
        if state == State.NEW:
            return []
        rng = self.rng
        age = (self.now - received_at).total_seconds()
        if state in ENDED:
            days = DAYS_TO_END.get(state, ENDED_DAYS)
            took = min(age * rng.uniform(0.3, 1.0), rng.expovariate(1 / (days * 86_400)))
        else:
            took = age * rng.uniform(0.3, 1.0)
        took = max(took, 60.0)
        answered = received_at + timedelta(seconds=min(took, rng.uniform(0.2, 10) * 86_400))
        changed = received_at + timedelta(seconds=took)
        if state in MAIN:
            moves = MAIN[: MAIN.index(state) + 1]
        else:
            left = self.pick(self.left_from[state])
            moves = [*MAIN[: MAIN.index(left) + 1], state]
            if state in {State.ON_HOLD, State.QUARANTINED}:
                case["resume_state"] = left
        reason = str(rng.choice(REASONS[state])) if state in REASONS else ""
        case.update(answered_at=self.when(answered), state_changed_at=self.when(changed))
        case["reason"] = reason
        by = case.get("assigned_to_id") or rng.choice(self.staff)[0]
        steps = len(moves) - 1
        return [
            {
                "case_id": case["id"],
                "at": self.when(
                    answered + (changed - answered) * (step / (steps - 1) if steps > 1 else 1)
                ),
                "kind": CaseEvent.Kind.STATE.value,
                "by_id": by,
                "from_state": moves[step],
                "to_state": moves[step + 1],
                "reason": reason if step == steps - 1 else "",
            }
            for step in range(steps)
        ]


def synthetic_staff() -> list[Staff]:
    """The synthetic caseworkers and their teams, created on first use: no keys, no usable
    password, an address that can receive nothing."""
    staff = []
    for number in range(1, TEAMS + 1):
        team, _ = Team.objects.get_or_create(
            name=f"Synthetic caseworkers {number}", defaults={"role": Role.CASEWORKER}
        )
        for member in range(1, STAFF_PER_TEAM + 1):
            index = (number - 1) * STAFF_PER_TEAM + member
            email = f"synthetic-caseworker-{index}@{STAFF_DOMAIN}"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, None, display_name=f"Synthetic {index}")
            Membership.objects.get_or_create(team=team, user=user)
            staff.append((user.pk, team.pk))
    return staff


def _insert(model: type[models.Model], rows: list[Row]) -> None:
    """Insert rows of driver values in one `executemany`; columns a row leaves out take
    their field's default.

    Not `bulk_create`: it prepares every value through the ORM's compiler, which held
    seeding to about 1,300 cases a second on an empty SQLite database, a third of this.
    """
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    defaults = {field.attname: field.get_default() for field in fields}
    columns = operator.itemgetter(*defaults)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Only quoted table and column names are joined into the text; values are parameters.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [columns({**defaults, **row}) for row in rows])


@contextmanager
def _sqlite_for_loading() -> Iterator[None]:
    """On SQLite, a larger page cache and fewer WAL checkpoints while seeding, given back
    afterwards: with the default 2 MB cache, inserts into a million-row table's randomly
    keyed indexes go to the disk for nearly every page, and each checkpoint rewrites pages
    the next batch changes again."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {cache}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {checkpoint}")


def _references(rng: random.Random, size: int) -> list[str]:
    """`size` new references, none of them already stored."""
    references: set[str] = set()
    while len(references) < size:
        drawn = set()
        for _ in range(size - len(references)):
            raw = "".join(rng.choices(REFERENCE_ALPHABET, k=8))
            drawn.add(f"{raw[:4]}-{raw[4:]}")
        drawn -= references
        fresh = list(drawn)
        for start in range(0, len(fresh), 500):
            drawn -= set(
                HelpRequest.objects.filter(reference__in=fresh[start : start + 500]).values_list(
                    "reference", flat=True
                )
            )
        references |= drawn
    return list(references)


def seed_cases(count: int, *, batch: int = BATCH, seed: int | None = None) -> Seeded:
    """Add `count` synthetic cases (with keyrings, requests and timelines), `batch` to a
    transaction, then one audit entry for the run. A run stopped halfway keeps the batches
    written so far, without the entry.

    Raises SyntheticRefusedError unless demo mode is on or WAYSTATION_ALLOW_SYNTHETIC=1.
    """
    if not allowed():
        raise SyntheticRefusedError
    started = time.perf_counter()
    # Load data, not secrets: ids, lookups and keys come from the system's generator.
    rng = random.Random(seed)  # noqa: S311
    with transaction.atomic():
        staff = synthetic_staff()
    generator = _Generator(rng, staff, timezone.now())
    written = events = 0
    with _sqlite_for_loading():
        while written < count:
            references = _references(rng, min(batch, count - written))
            tables = generator.batch(references)
            with transaction.atomic():
                for model, rows in tables.items():
                    _insert(model, rows)
            written += len(references)
            events += len(tables[CaseEvent])
    if count:
        with transaction.atomic():
            log_action(None, "cases.synthetic.seeded", object_type="case", details={"cases": count})
    return Seeded(written, events, time.perf_counter() - started)
