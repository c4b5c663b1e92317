"""Public intake under load: concurrent people asking for help through /ask/, served by
gunicorn (2 sync workers unless --workers) on SQLite WAL with production-like settings,
against a bare Django form view served the same way; then a crash run that kills gunicorn
(master and workers, SIGKILL) mid-burst, restarts it, and checks that every acknowledged
follow-up code still opens its request. Prints figures; asserts nothing about time.

    python bench/intake_load.py [--requests 2000] [--seconds 60] [--concurrency 16] [--workers 2]
                                [--crash | --no-crash] [--kills 2] [--verify-all]
                                [--proof-bits 8] [--prefill 0]

Each simulated person: GET /ask/ (csrftoken cookie, csrfmiddlewaretoken and form_token from
the page), solves the form's proof of work as intake/proof.js does, then POSTs a filled form
as a browser does under `Referrer-Policy: no-referrer` (`Origin: null`, `Sec-Fetch-Site:
same-origin`). Only the POST is timed; an acknowledged submission is a 200 whose page shows
a follow-up code. `--prefill N` stores N earlier requests first, to see a fuller database.
Stdlib HTTP client and threads only; only 127.0.0.1 is contacted. Target from the issue,
reported and not asserted: at least 200 sealed submissions/s, POST p99 under 250 ms,
0 acknowledged requests lost, on 2 cores.
"""

import argparse
import contextlib
import hashlib
import html
import http.client
import importlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
TARGET_RATE = 200.0
TARGET_P99_MS = 250.0
VERIFY_SAMPLE = 300
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

INPUT_TAG = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
NAME_ATTR = re.compile(r'\bname="([^"]*)"')
VALUE_ATTR = re.compile(r'\bvalue="([^"]*)"')
CODE = re.compile(r'class="[^"]*\bfollow-up-code\b[^"]*"[^>]*>\s*([^<]+?)\s*<')
HIDDEN = ("csrfmiddlewaretoken", "form_token")
PROOF_BITS = re.compile(r'data-proof-bits="(\d+)"')

# --- Realistic answers ----------------------------------------------------------------------

PLACES = {
    "NG": (("Lagos", "Abuja", "Kano", "Port Harcourt"), "+234 803 ", 7),
    "KE": (("Nairobi", "Mombasa", "Kisumu"), "+254 712 ", 6),
    "UG": (("Kampala", "Gulu", "Mbarara"), "+256 772 ", 6),
    "GH": (("Accra", "Kumasi", "Tamale"), "+233 24 ", 7),
    "CM": (("Yaoundé", "Douala"), "+237 6 77 ", 6),
    "RU": (("Moscow", "Grozny", "Kazan", "Saint Petersburg"), "+7 916 ", 7),
    "IR": (("Tehran", "Shiraz", "Mashhad"), "+98 912 ", 7),
    "EG": (("Cairo", "Alexandria"), "+20 100 ", 7),
    "TR": (("Istanbul", "Ankara", "Izmir"), "+90 532 ", 7),
    "JM": (("Kingston", "Montego Bay"), "+1 876 ", 7),
    "MY": (("Kuala Lumpur", "Penang"), "+60 12 ", 7),
    "PK": (("Lahore", "Karachi", "Islamabad"), "+92 300 ", 7),
    "TZ": (("Dar es Salaam", "Arusha"), "+255 754 ", 6),
    "UA": (("Kharkiv", "Odesa"), "+380 67 ", 7),
}
NAMES = (
    "Ada",
    "Chidi",
    "Amina",
    "Mohammed",
    "Fatima",
    "Ali",
    "Olga",
    "Alexey",
    "Aleksei",
    "Sara",
    "Joseph",
    "Grace",
    "John",
    "Mary",
    "Kwame",
    "Akosua",
    "Daniel",
    "Esther",
    "Omar",
    "Layla",
    "Reza",
    "Maryam",
    "Dmitry",
    "Anya",
    "Emre",
    "Elif",
    "Andre",
    "Kemar",
    "Nia",
    "Farid",
    "Noor",
    "Ibrahim",
    "Aisha",
    "Peter",
    "Ruth",
    "Samuel",
    "Blessing",
    "Musa",
    "Zainab",
    "Tunde",
    "Ngozi",
    "Kofi",
    "Abena",
    "Yusuf",
    "Hassan",
    "Leila",
    "Sasha",
    "Nikita",
    "Mehmet",
    "Deniz",
    "Imran",
    "Bilal",
    "Zara",
    "Jamal",
    "Tariq",
)
SURNAMES = (
    "Okafor",
    "Mensah",
    "Ivanov",
    "Hosseini",
    "Yilmaz",
    "Brown",
    "Khan",
    "Mwangi",
    "Nasser",
    "Petrenko",
)
SENTENCES = (
    "My family found out that I am gay and my brother threatened to kill me.",
    "The police came to my house twice and took my phone.",
    "People in my street beat me last month and I still cannot walk properly.",
    "My employer dismissed me when a colleague showed him my messages.",
    "A group posted my photo online with my address and called for violence.",
    "I have been hiding at a friend's place for three weeks but they are afraid now.",
    "My partner was arrested and I do not know where they are held.",
    "The new law means we can go to prison for years just for who we are.",
    "My father wants to force me into a marriage before the end of the year.",
    "I am a trans woman and I was attacked at a checkpoint when they saw my documents.",
    "Someone pretending to be a friend on a dating app set a trap and robbed me.",
    "The local organization helped me once but they were raided and closed.",
    "I receive threatening calls every night from numbers I do not know.",
    "My landlord told me to leave because of the rumours about me.",
    "I cannot go back to my village because the elders said I would be punished.",
    "I was held by the police for four days and they beat me and took money.",
    "I have a passport but it expires in two months and I cannot renew it safely.",
    "My mother supports me but she is scared that they will hurt her too.",
)
ORGANIZATIONS = ("", "", "", "Rainbow Centre", "the local LGBT support group", "Alturi")
SAFE_TIMES = ("", "evenings after 8", "weekday mornings", "any time on Signal", "weekends")
DOCUMENTS = (
    ["none"],
    ["national_id"],
    ["valid_passport"],
    ["national_id", "expired_passport"],
    ["national_id", "valid_passport"],
    ["other"],
)
LANGUAGES = ("en", "en", "en", "fr", "ar", "ru", "es", "fa", "tr", "sw")


def narrative(rng: random.Random) -> str:
    return " ".join(rng.choices(SENTENCES, k=rng.randint(3, 12)))


def person_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return ""
    first = rng.choice(NAMES)
    return f"{first} {rng.choice(SURNAMES)}" if roll > 0.8 else first


def contact(rng: random.Random, country: str, name: str) -> tuple[str, str]:
    channel = rng.choice(["", "", "signal", "whatsapp", "telegram", "phone", "email", "other"])
    prefix, digits = PLACES[country][1], PLACES[country][2]
    if channel in {"signal", "whatsapp", "telegram", "phone"}:
        return channel, prefix + "".join(rng.choices("0123456789", k=digits))
    if channel == "email":
        local = (name.split()[0].lower() if name else "someone") + str(rng.randrange(10_000))
        return channel, f"{local}@{rng.choice(['proton.me', 'gmail.com', 'tutanota.com'])}"
    if channel == "other":
        return channel, "ask for Sam at the tailor's shop"
    return "", ""


def intake_answers(rng: random.Random) -> list[tuple[str, str]]:
    country = rng.choice(list(PLACES))
    name = person_name(rng)
    channel, handle = contact(rng, country, name)
    fields = [
        ("country", country),
        ("region", rng.choice(PLACES[country][0])),
        ("nationalities", country),
        ("narrative", narrative(rng)),
        ("risk", rng.choice(["now", "weeks", "ongoing"])),
        ("organization", rng.choice(ORGANIZATIONS)),
        *(("documents", document) for document in rng.choice(DOCUMENTS)),
        ("name", name),
        ("channel", channel),
        ("handle", handle),
        ("safe_times", rng.choice(SAFE_TIMES)),
        ("language", rng.choice(LANGUAGES)),
        ("consent", "on"),
        ("website", ""),
    ]
    if rng.random() < 0.15:
        fields.append(("nationalities", rng.choice(list(PLACES))))
    if rng.random() < 0.5:
        fields.append(("no_messages", "on"))
    return fields


def bare_answers(rng: random.Random) -> list[tuple[str, str]]:
    return [
        ("country", rng.choice(list(PLACES))),
        ("risk", rng.choice(["now", "weeks", "ongoing"])),
        ("narrative", narrative(rng)),
    ]


# --- HTTP -------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    cookies: dict[str, str]
    body: str


def fetch(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> Response:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        cookies = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                cookies[key.strip()] = val.strip()
        return Response(response.status, cookies, data.decode("utf-8", "replace"))
    finally:
        conn.close()


def hidden_inputs(page: str) -> dict[str, str]:
    found = {}
    for tag in INPUT_TAG.findall(page):
        name, value = NAME_ATTR.search(tag), VALUE_ATTR.search(tag)
        if name and value and name.group(1) in HIDDEN:
            found[name.group(1)] = html.unescape(value.group(1))
    return found


def solve_proof(form_token: str, bits: int) -> str:
    """What intake/proof.js computes in the person's browser: the first nonce for which
    sha256(form_token ":" nonce) starts with `bits` zero bits."""
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{form_token}:{nonce}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - bits) == 0:
            return str(nonce)
        nonce += 1


def browser_headers(origin: str | None = None) -> dict[str, str]:
    """What a browser sends when a person follows a link (no origin) or submits a form."""
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml",
        "Accept-Language": "en-GB,en;q=0.8",
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
    }
    if origin is not None:
        headers["Origin"] = origin
    return headers


def post_form(
    port: int, path: str, origin: str, cookies: dict[str, str], fields: list[tuple[str, str]]
) -> Response:
    headers = {
        **browser_headers(origin),
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }
    return fetch(port, "POST", path, headers, urlencode(fields))


# --- Servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def group_members(pgid: int) -> Iterator[list[str]]:
    """/proc/<pid>/stat fields (after the command name) of each process in a group that is
    still running: zombies waiting to be reaped are left out."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            yield fields


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in a process group (gunicorn and workers)."""
    return sum(int(f[11]) + int(f[12]) for f in group_members(pgid)) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def group_alive(pgid: int) -> bool:
    return next(group_members(pgid), None) is not None


class Server:
    """gunicorn with sync workers (2 unless --workers says otherwise) on 127.0.0.1, in its
    own session (process group), so a crash can take the master and the workers down at
    once."""

    workers = 2

    def __init__(self, name: str, app: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.name, self.app, self.cwd, self.env, self.log = name, app, cwd, env, log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> float:
        started = time.perf_counter()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    self.app,
                    "--bind",
                    f"{HOST}:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--worker-class",
                    "sync",
                    "--no-control-socket",
                    "--chdir",
                    str(self.cwd),
                ],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} gunicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if fetch(self.port, "GET", "/ask/", {"User-Agent": USER_AGENT}).status == 200:
                    return time.perf_counter() - started
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} gunicorn not ready in {READY_TIMEOUT:.0f} s")

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.process.pid) if self.process else 0.0

    def kill(self) -> None:
        """SIGKILL to master and workers at once, as a power cut of the app would."""
        assert self.process is not None
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process is None:
            return
        pgid = self.process.pid
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        # Workers outlive a master killed first; the group id is the master's own pid.
        deadline = time.monotonic() + STOP_TIMEOUT
        while group_alive(pgid) and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_errors(self) -> Counter[str]:
        """Lines of the server log that report problems, by their first words."""
        found: Counter[str] = Counter()
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return found
        for line in text.splitlines():
            if re.search(r"\b(ERROR|CRITICAL|Traceback)\b|database is locked|WORKER TIMEOUT", line):
                found[re.sub(r"^\S+ \S+ ", "", line)[:110]] += 1
        return found


# --- Load -------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    path: str
    origin: Callable[[int], str]
    answers: Callable[[random.Random], list[tuple[str, str]]]


@dataclass
class Tally:
    post_ms: list[float] = field(default_factory=list)
    get_ms: list[float] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    in_doubt: int = 0
    # POSTs a crash cut, as the person's browser holds them: (origin, cookies, fields).
    cut: list[tuple[str, dict[str, str], list[tuple[str, str]]]] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    machine_busy: float = 0.0


class Load:
    """N threads, each a person submitting one request after another, until `total`
    submissions were attempted or `seconds` passed."""

    def __init__(
        self, target: Target, port: Callable[[], int], total: int, seconds: float, seed: int
    ) -> None:
        self.target, self.port, self.total, self.seconds = target, port, total, seconds
        self.seed = seed
        self.lock = threading.Lock()
        self.issued = 0
        self.tally = Tally()
        self.started = 0.0
        self.deadline = 0.0

    @property
    def acknowledged(self) -> int:
        return len(self.tally.codes)

    def _take(self) -> bool:
        with self.lock:
            if self.issued >= self.total or time.monotonic() >= self.deadline:
                return False
            self.issued += 1
            return True

    def _once(self, rng: random.Random) -> None:
        port = self.port()
        origin = self.target.origin(port)
        try:
            began = time.perf_counter()
            page = fetch(port, "GET", self.target.path, browser_headers())
            got = time.perf_counter() - began
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                self.tally.errors[f"GET {type(error).__name__} (retried)"] += 1
                self.issued -= 1  # nothing was sent: the person tries again
            time.sleep(0.05)
            return
        tokens = hidden_inputs(page.body)
        if page.status != 200 or "csrfmiddlewaretoken" not in tokens:
            with self.lock:
                self.tally.errors[f"GET {page.status}"] += 1
            return
        fields = [*tokens.items(), *self.target.answers(rng)]
        bits = PROOF_BITS.search(page.body)
        if bits and "form_token" in tokens:
            fields.append(("proof", solve_proof(tokens["form_token"], int(bits.group(1)))))
        began = time.perf_counter()
        try:
            answer = post_form(port, self.target.path, origin, page.cookies, fields)
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                self.tally.errors[f"POST {type(error).__name__} (outcome unknown)"] += 1
                self.tally.in_doubt += 1
                self.tally.cut.append((origin, page.cookies, fields))
            return
        took = (time.perf_counter() - began) * 1000
        code = CODE.search(answer.body) if answer.status == 200 else None
        with self.lock:
            self.tally.get_ms.append(got * 1000)
            self.tally.post_ms.append(took)
            if code:
                self.tally.codes.append(code.group(1))
                self.tally.ack_times.append(time.monotonic() - self.started)
            else:
                self.tally.errors[
                    f"POST {answer.status}{'' if answer.status != 200 else ' no code'}"
                ] += 1

    def _person(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        while self._take():
            self._once(rng)

    def run(self, concurrency: int, server: "Server | None" = None) -> Tally:
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds
        cpu, server_cpu = time.process_time(), server.cpu_seconds() if server else 0.0
        busy = machine_busy_seconds()
        threads = [
            threading.Thread(target=self._person, args=(i,), daemon=True)
            for i in range(concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.tally.elapsed = time.monotonic() - self.started
        self.tally.client_cpu = time.process_time() - cpu
        self.tally.machine_busy = machine_busy_seconds() - busy
        if server is not None and server.process is not None:
            self.tally.server_cpu = server.cpu_seconds() - server_cpu
        return self.tally


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def rate(tally: Tally) -> float:
    return len(tally.codes) / tally.elapsed if tally.elapsed else 0.0


def describe_errors(errors: Counter[str]) -> str:
    return ", ".join(f"{name} x{n}" for name, n in errors.most_common()) or "none"


def print_tally(label: str, tally: Tally, concurrency: int) -> None:
    print(
        f"  {label:<11} {len(tally.codes)} acknowledged in {tally.elapsed:.1f} s:"
        f" {rate(tally):,.1f} submissions/s"
    )
    print(
        f"  {'':<11} POST p50 {pct(tally.post_ms, 50):.1f}  p95 {pct(tally.post_ms, 95):.1f}"
        f"  p99 {pct(tally.post_ms, 99):.1f}  max {max(tally.post_ms, default=0):.1f} ms"
        f"   (GET form p50 {pct(tally.get_ms, 50):.1f}  p99 {pct(tally.get_ms, 99):.1f} ms)"
    )
    if len(tally.ack_times) >= 8:
        span = tally.elapsed / 4
        quarters = [
            sum(1 for t in tally.ack_times if i * span <= t < (i + 1) * span) / span
            for i in range(4)
        ]
        print(
            f"  {'':<11} rate by quarter of the run: {' / '.join(f'{q:.0f}' for q in quarters)}/s"
        )
    done = max(len(tally.codes), 1)
    print(
        f"  {'':<11} CPU per acknowledged submission:"
        + (f" server {tally.server_cpu / done * 1000:.1f} ms," if tally.server_cpu else "")
        + f" load generator {tally.client_cpu / done * 1000:.1f} ms ({concurrency} client threads)"
    )
    if tally.elapsed:
        cores = os.cpu_count() or 1
        other = max(tally.machine_busy - tally.server_cpu - tally.client_cpu, 0.0)

        def share(seconds: float) -> str:
            return f"{seconds / (tally.elapsed * cores) * 100:.0f} %"

        others = "other processes" if tally.server_cpu else "server and other processes"
        print(
            f"  {'':<11} CPU of the {cores} cores during the run:"
            + (f" server {share(tally.server_cpu)}," if tally.server_cpu else "")
            + f" load generator {share(tally.client_cpu)}, {others} {share(other)},"
            f" idle {share(max(tally.elapsed * cores - tally.machine_busy, 0.0))}"
        )
    print(f"  {'':<11} errors: {describe_errors(tally.errors)}")


# --- Waystation and bare setups ----------------------------------------------------------


def waystation_env(data: Path, proof_bits: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WAYSTATION_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "WAYSTATION_SECRET_KEY": secrets.token_urlsafe(64),
            "WAYSTATION_ALLOWED_HOSTS": HOST,
            "WAYSTATION_HTTPS": "false",
            "WAYSTATION_DB_CONN_MAX_AGE": "600",
            "WAYSTATION_DATA_DIR": str(data),
            "WAYSTATION_LOG_LEVEL": "WARNING",
            # The proof of work costs the person's browser (2^bits hashes on average), not the
            # server (one hash to check): a lower difficulty keeps the load generator from
            # taking the cores the server needs. Production default: 16.
            "WAYSTATION_INTAKE_PROOF_BITS": str(proof_bits),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def prepare_waystation(env: dict[str, str]) -> float:
    """Migrate, collect static files, and create an intake team whose member has keys."""
    started = time.perf_counter()
    os.environ.clear()
    os.environ.update(env)
    # Fast Argon2id for wrapping the volunteer's key here, in this process only: intake never
    # derives keys from passwords, and the server refuses to start in production below 64 MiB
    # (waystation.E101), so gunicorn runs with the production defaults.
    os.environ["WAYSTATION_VAULT_KDF_MEMORY_MIB"] = "8"
    os.environ["WAYSTATION_VAULT_KDF_OPS"] = "1"
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from django.db import connection

    from waystation.accounts.models import Membership, Role, Team, User
    from waystation.vault import services as vault

    password = secrets.token_urlsafe(24)
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    user = User.objects.create_user("intake@example.org", password, display_name="Intake volunteer")
    Membership.objects.create(team=team, user=user)
    vault.create_user_key(user, password)
    vault.ensure_team_key(team)
    connection.close()
    return time.perf_counter() - started


def prefill(count: int) -> float:
    """Store `count` earlier requests through services.submit_request, in this process, so a
    run can show how intake behaves on a database that already holds requests."""
    import dataclasses

    from django.db import connection
    from django.utils.datastructures import MultiValueDict

    from waystation.intake import services
    from waystation.intake.forms import RequestForm

    started = time.perf_counter()
    rng = random.Random(0)
    # Optional fields the form leaves out (the partner list when none is configured) keep
    # their defaults.
    names = [f.name for f in dataclasses.fields(services.Answers)]
    for _ in range(count):
        data: dict[str, list[str]] = {}
        for key, value in [*intake_answers(rng), ("form_token", secrets.token_urlsafe(24))]:
            data.setdefault(key, []).append(value)
        form = RequestForm(MultiValueDict(data))
        if not form.is_valid():
            raise RuntimeError(f"prefill answers do not validate: {form.errors.as_text()}")
        answers = services.Answers(
            **{name: form.cleaned_data[name] for name in names if name in form.cleaned_data}
        )
        services.submit_request(
            answers,
            language=form.cleaned_data["language"],
            form_token=form.cleaned_data["form_token"],
        )
    connection.close()
    return time.perf_counter() - started


def collect_static() -> None:
    """The production static storage refuses to render a page whose files were not collected
    (the manifest), as after a deploy without collectstatic."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def waystation_stored(codes: list[str]) -> tuple[int, int]:
    """(HelpRequest rows, how many of `codes` have their request) straight from the DB."""
    from django.db import connection

    from waystation.intake import codes as follow_up_codes
    from waystation.intake.models import HelpRequest

    # Others edit the app while benchmarks run: hash codes as the code on disk does now.
    follow_up = importlib.reload(follow_up_codes)
    lookups = [follow_up.lookup_id(follow_up.normalize(code) or "") for code in codes]
    found = sum(
        HelpRequest.objects.filter(follow_up_lookup__in=chunk).count()
        for chunk in chunks(lookups, 500)
    )
    rows = HelpRequest.objects.count()
    connection.close()
    return rows, found


def bare_stored(db: Path, codes: list[str]) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(db, timeout=20)) as conn:
        rows = conn.execute("SELECT count(*) FROM submission").fetchone()[0]
        found = 0
        for chunk in chunks(codes, 500):
            marks = ",".join("?" * len(chunk))
            found += conn.execute(
                f"SELECT count(*) FROM submission WHERE code IN ({marks})",  # noqa: S608
                chunk,
            ).fetchone()[0]
    return rows, found


def opens_follow_up(port: int, code: str) -> str:
    """'opened', or what happened instead, when a person signs in with their code."""
    headers = browser_headers()
    page = fetch(port, "GET", "/follow-up/", headers)
    tokens = hidden_inputs(page.body)
    if page.status != 200 or "csrfmiddlewaretoken" not in tokens:
        return f"GET {page.status}"
    answer = post_form(
        port,
        "/follow-up/",
        "null",
        page.cookies,
        [
            ("csrfmiddlewaretoken", tokens["csrfmiddlewaretoken"]),
            ("action", "login"),
            ("code", code),
        ],
    )
    if answer.status == 200 and "<h1>Messages</h1>" in answer.body:
        return "opened"
    return f"POST {answer.status}"


def verify_codes(port: int, codes: list[str], concurrency: int) -> Counter[str]:
    def check(code: str) -> str:
        try:
            return opens_follow_up(port, code)
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return Counter(pool.map(check, codes))


# --- Runs -----------------------------------------------------------------------------------


def normal_run(
    args: argparse.Namespace, ways: Target, bare: Target, env: dict[str, str], scratch: Path
) -> None:
    servers: list[Server] = []
    try:
        collect_static()
        waystation = Server("waystation", "config.wsgi:application", ROOT, env, scratch / "w.log")
        servers.append(waystation)
        boot = waystation.start()
        rows_before, _ = waystation_stored([])
        load = Load(ways, lambda: waystation.port, args.requests, args.seconds, seed=1)
        tally = load.run(args.concurrency, waystation)
        rows_after, found = waystation_stored(tally.codes)
        server_errors = waystation.log_errors()
        waystation.stop()

        bare_db = scratch / "bare.sqlite3"
        bare_env = {
            **env,
            "BARE_DB": str(bare_db),
            "BARE_SECRET_KEY": secrets.token_urlsafe(64),
        }
        bare_env.pop("DJANGO_SETTINGS_MODULE", None)
        baseline = Server("bare", "_bare:application", HERE, bare_env, scratch / "b.log")
        servers.append(baseline)
        baseline.start()
        bare_load = Load(bare, lambda: baseline.port, args.requests, args.seconds, seed=2)
        bare_tally = bare_load.run(args.concurrency, baseline)
        bare_rows, bare_found = bare_stored(bare_db, bare_tally.codes)
        baseline.stop()
    finally:
        for server in servers:
            server.stop()

    print(
        f"intake load: {args.concurrency} clients, gunicorn {args.workers} sync workers,"
        f" SQLite WAL, CONN_MAX_AGE=600, {os.cpu_count()} cores; budget {args.requests} submissions"
        f" or {args.seconds:.0f} s (waystation ready {boot:.1f} s after start)"
    )
    print_tally("waystation", tally, args.concurrency)
    print(
        f"  {'':<11} acknowledged {len(tally.codes)}, stored {rows_after - rows_before}"
        f" new HelpRequest rows; acknowledged codes found in the DB: {found}"
        f" (lost {len(tally.codes) - found})"
    )
    if server_errors:
        print(f"  {'':<11} server log: {describe_errors(server_errors)}")
    print_tally("bare django", bare_tally, args.concurrency)
    print(
        f"  {'':<11} acknowledged {len(bare_tally.codes)}, stored {bare_rows};"
        f" acknowledged codes found in the DB: {bare_found}"
    )
    if rate(bare_tally) and tally.post_ms:
        print(
            f"  ratio waystation / bare: throughput {rate(tally) / rate(bare_tally):.2f}x,"
            f" POST p50 {pct(tally.post_ms, 50) / pct(bare_tally.post_ms, 50):.1f}x,"
            f" p99 {pct(tally.post_ms, 99) / pct(bare_tally.post_ms, 99):.1f}x"
        )
    print(
        f"  target (issue, not asserted): ≥ {TARGET_RATE:.0f} submissions/s → {rate(tally):.0f};"
        f" p99 < {TARGET_P99_MS:.0f} ms → {pct(tally.post_ms, 99):.0f} ms;"
        f" 0 lost → {len(tally.codes) - found}"
    )


def crash_run(args: argparse.Namespace, ways: Target, env: dict[str, str], scratch: Path) -> None:
    collect_static()
    server = Server("waystation", "config.wsgi:application", ROOT, env, scratch / "crash.log")
    downtimes: list[float] = []
    kills_at: list[int] = []
    try:
        server.start()
        rows_before, _ = waystation_stored([])
        load = Load(ways, lambda: server.port, args.crash_requests, args.seconds, seed=3)
        finished = threading.Event()

        def crasher() -> None:
            jitter = random.Random(4)
            for k in range(1, args.kills + 1):
                threshold = args.crash_requests * k // (args.kills + 1)
                while load.acknowledged < threshold and not finished.is_set():
                    time.sleep(0.002)
                if finished.is_set():
                    return
                time.sleep(jitter.uniform(0, 0.02))  # anywhere inside a request
                kills_at.append(load.acknowledged)
                began = time.perf_counter()
                server.kill()
                server.start()
                downtimes.append(time.perf_counter() - began)

        thread = threading.Thread(target=crasher, daemon=True)
        thread.start()
        tally = load.run(args.concurrency)
        finished.set()
        thread.join(timeout=READY_TIMEOUT + STOP_TIMEOUT)
        if server.process is None or server.process.poll() is not None:
            server.start()
        # Each person whose answer a crash cut reloads the page, sending the same form again.
        resent: Counter[str] = Counter()
        resent_codes: list[str] = []
        for origin, cookies, fields in tally.cut:
            answer = post_form(server.port, ways.path, origin, cookies, fields)
            code = CODE.search(answer.body) if answer.status == 200 else None
            resent["code" if code else f"status {answer.status}"] += 1
            if code:
                resent_codes.append(code.group(1))
        all_codes = tally.codes + resent_codes
        rows_after, found = waystation_stored(all_codes)
        sample = all_codes
        if not args.verify_all and len(sample) > VERIFY_SAMPLE:
            sample = random.Random(5).sample(sample, VERIFY_SAMPLE)
        verify_started = time.perf_counter()
        verified = verify_codes(server.port, sample, args.concurrency)
        verify_seconds = time.perf_counter() - verify_started
        server_errors = server.log_errors()
    finally:
        server.stop()

    acknowledged = len(all_codes)
    print(
        f"crash run: {args.kills} x SIGKILL of gunicorn master and workers mid-burst"
        f" (after {', '.join(map(str, kills_at)) or '-'} acknowledged), restart each time"
        f" ({', '.join(f'{d:.1f}' for d in downtimes) or '-'} s down)"
    )
    print_tally("waystation", tally, args.concurrency)
    print(
        f"  {'':<11} POSTs cut by a crash (outcome unknown to the person): {tally.in_doubt};"
        f" sent again after the restart, as a reload does: {describe_errors(resent)}"
    )
    stored = rows_after - rows_before
    verdict = (
        "each stored request acknowledged once"
        if stored == acknowledged
        else "more rows than codes: stored, never acknowledged"
        if stored > acknowledged
        else "fewer rows than codes"
    )
    print(
        f"  {'':<11} DB: {stored} new HelpRequest rows for {acknowledged} acknowledged"
        f" codes ({verdict}); acknowledged codes found by their lookup hash: {found}"
    )
    lost = len(sample) - verified["opened"]
    which = "every one of" if len(sample) == acknowledged else "a sample of"
    print(
        f"  {'':<11} follow-up sign-in with {which}"
        f" {len(sample)} acknowledged codes ({verify_seconds:.1f} s):"
        f" opened {verified['opened']}, failed {lost}"
        + (f" ({describe_errors(verified - Counter(opened=verified['opened']))})" if lost else "")
    )
    # Lost: an acknowledged code that no longer opens its request (sign-in), or an
    # acknowledged submission with no row at all.
    missing_rows = max(acknowledged - (rows_after - rows_before), 0)
    print(f"  acknowledged {acknowledged}, lost {max(lost, missing_rows)}")
    if found != acknowledged and lost == 0:
        print(
            f"  {'':<11} note: {acknowledged - found} codes were not found by hashing them in this"
            " process, yet sign-in opened them: intake/codes.py changed while the bench ran?"
        )
    if server_errors:
        print(f"  {'':<11} server log: {describe_errors(server_errors)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="submissions per run")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn sync workers, for both servers"
    )
    crash = parser.add_mutually_exclusive_group()
    crash.add_argument("--crash", action="store_true", help="only the crash run")
    crash.add_argument("--no-crash", action="store_true", help="skip the crash run")
    parser.add_argument("--crash-requests", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=2, help="crashes during the crash run")
    parser.add_argument("--verify-all", action="store_true", help="sign in with every code")
    parser.add_argument(
        "--proof-bits", type=int, default=8, help="proof-of-work difficulty (production: 16)"
    )
    parser.add_argument(
        "--prefill", type=int, default=0, help="requests stored before the runs (in-process)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    Server.workers = args.workers
    args.requests = max(1, min(args.requests, 100_000))
    args.crash_requests = max(args.kills + 1, min(args.crash_requests, 100_000))
    args.seconds = max(1.0, min(args.seconds, 600.0))
    args.concurrency = max(1, min(args.concurrency, 256))
    args.prefill = max(0, min(args.prefill, 20_000))
    args.proof_bits = max(1, min(args.proof_bits, 24))

    scratch = Path(tempfile.mkdtemp(prefix="waystation-intake-load-"))
    try:
        (scratch / "data").mkdir()
        env = waystation_env(scratch / "data", args.proof_bits)
        setup_seconds = prepare_waystation(env)
        print(f"scratch {scratch}: migrated and prepared in {setup_seconds:.1f} s", flush=True)
        if args.prefill:
            took = prefill(args.prefill)
            print(f"prefilled {args.prefill} earlier requests in {took:.1f} s", flush=True)
        ways = Target("waystation", "/ask/", lambda _port: "null", intake_answers)
        bare = Target("bare", "/ask/", lambda port: f"http://{HOST}:{port}", bare_answers)
        if not args.crash:
            normal_run(args, ways, bare, env, scratch)
        if not args.no_crash:
            crash_run(args, ways, env, scratch)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
