"""Waystation settings, read from the environment.

Every setting is listed with a safe example in `.env.example`. Defaults give a working
embedded setup (SQLite file, local files); production mode (the default) refuses to start
without a strong secret key and an explicit host list.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read a secret from NAME, or from the file named by NAME_FILE (for container secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read: {error}.") from None
    return os.environ.get(name, default)


def is_weak_secret(value: str) -> bool:
    return len(value) < 50 or len(set(value)) < 12 or value.startswith("django-insecure")


# --- Mode -------------------------------------------------------------------------------

DEBUG = env_bool("WAYSTATION_DEBUG")
# Demo mode: the `make run` sandbox with printed demo logins. Never for real cases.
DEMO_MODE = env_bool("WAYSTATION_DEMO")
PRODUCTION = not (DEBUG or DEMO_MODE)
DATA_DIR = Path(env_str("WAYSTATION_DATA_DIR", str(BASE_DIR / "var"))).resolve()


def _demo_secret_key() -> str:
    # Demo and debug runs keep a generated key in the data folder so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_secret("WAYSTATION_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "WAYSTATION_SECRET_KEY (or WAYSTATION_SECRET_KEY_FILE) is required in production. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    SECRET_KEY = _demo_secret_key()
if PRODUCTION and is_weak_secret(SECRET_KEY):
    raise ImproperlyConfigured(
        "WAYSTATION_SECRET_KEY is too weak: use at least 50 random characters."
    )

ALLOWED_HOSTS = env_list(
    "WAYSTATION_ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]"
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "WAYSTATION_ALLOWED_HOSTS is empty: list the host names this site answers to."
    )
CSRF_TRUSTED_ORIGINS = env_list("WAYSTATION_CSRF_TRUSTED_ORIGINS")

# Keys for the audit chain and login throttling; both default to keys derived from
# SECRET_KEY, and can be given separately so that rotating one does not touch the other.
AUDIT_KEY = env_secret("WAYSTATION_AUDIT_KEY")

SITE_TITLE = env_str("WAYSTATION_SITE_TITLE", "Waystation")
# The staff site's address, for links in e-mails to staff (the daily digest).
STAFF_URL = env_str("WAYSTATION_STAFF_URL", "")
# Fraud signal: a phone number or e-mail address behind requests under this many different
# full names is shown to staff on the case.
CASES_SIGNAL_NAMES_PER_CONTACT = env_int("WAYSTATION_CASES_SIGNAL_NAMES_PER_CONTACT", 2, minimum=2)
# Fraud signal: the same evidence file (a keyed hash of it) in at least this many other
# requests.
CASES_SIGNAL_EVIDENCE_MATCHES = env_int("WAYSTATION_CASES_SIGNAL_EVIDENCE_MATCHES", 1, minimum=1)
# Fraud signal: a near-identical narrative in at least this many other requests received
# within this many days of the request (before or after it): a burst.
CASES_SIGNAL_NARRATIVE_MATCHES = env_int("WAYSTATION_CASES_SIGNAL_NARRATIVE_MATCHES", 2, minimum=1)
CASES_SIGNAL_NARRATIVE_DAYS = env_int("WAYSTATION_CASES_SIGNAL_NARRATIVE_DAYS", 7, minimum=1)
# Signal rules turned off, by code: contact_names, evidence_shared, narrative_burst,
# compromised_partner, or the code of a rule another app registers.
CASES_SIGNALS_DISABLED = env_list("WAYSTATION_CASES_SIGNALS_DISABLED")
# Surge volunteer accounts end on a date chosen when they are made, at most this many days on.
CASES_SURGE_ACCOUNT_MAX_DAYS = env_int("WAYSTATION_CASES_SURGE_ACCOUNT_MAX_DAYS", 90, minimum=1)
# A verified case is due for re-verification this many days after the decision, or sooner
# when a signal appears on it that the decision did not see.
VERIFICATION_REVIEW_DAYS = env_int("WAYSTATION_VERIFICATION_REVIEW_DAYS", 365, minimum=1)
# The Case Committee's reporting currency (ISO 4217): request totals, allocations and
# reports are in it; exchange rates convert to it.
FUNDING_CURRENCY = env_str("WAYSTATION_FUNDING_CURRENCY", "EUR").upper()
# How many committee members must vote on a request before it is decided (a meeting may
# ask for more).
FUNDING_QUORUM = env_int("WAYSTATION_FUNDING_QUORUM", 3, minimum=1)
# A static file path for the browser tab icon; keep it as neutral as the title.
FAVICON = env_str("WAYSTATION_FAVICON", "waystation/favicon.svg")


def env_links(name: str) -> list[tuple[str, str]]:
    """`Name=https://url;Other=https://url` as (name, url) pairs."""
    links = []
    for item in os.environ.get(name, "").split(";"):
        if not item.strip():
            continue
        label, sep, url = item.partition("=")
        if not sep or not url.strip().startswith("https://"):
            raise ImproperlyConfigured(f"{name}: write each link as Name=https://address.")
        links.append((label.strip(), url.strip()))
    return links


# Outside organizations listed on the public home page.
OUTSIDE_RESOURCES = env_links("WAYSTATION_OUTSIDE_RESOURCES")
# Partner organizations the request form offers by name, besides free text. The form is
# public: list only organizations that are safe to name in public.
INTAKE_PARTNERS = env_list("WAYSTATION_INTAKE_PARTNERS")
# Fraud and entrapment signal: partners from that list known to be compromised. Staff see a
# signal on every request that chose one. Never shown on the public site.
CASES_COMPROMISED_PARTNERS = env_list("WAYSTATION_CASES_COMPROMISED_PARTNERS")

# --- Applications ------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "waystation.pages",
    "waystation.audit",
    "waystation.accounts",
    "waystation.vault",
    "waystation.intake",
    "waystation.cases",
    "waystation.partners",
    "waystation.verification",
    "waystation.planning",
    "waystation.funding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "waystation.pages.middleware.SecurityHeadersMiddleware",
    "waystation.pages.middleware.CompactHtmlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "waystation.pages.csrf.SameOriginCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waystation.accounts.middleware.StaffGateMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "waystation.pages.context_processors.site",
            ],
        },
    },
]
# Widgets render through Jinja2's compiled templates (Django ships them): the request form's
# page renders in half the time it takes the Django template engine.
FORM_RENDERER = "django.forms.renderers.Jinja2"

# --- Database ----------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'waystation.sqlite3'}"),
        conn_max_age=env_int("WAYSTATION_DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# NORMAL survives a crash of the application (tested: bench/intake_load.py kills it); FULL
# also survives a power cut or an operating-system crash, at about a quarter of throughput.
SQLITE_SYNCHRONOUS = env_str("WAYSTATION_SQLITE_SYNCHRONOUS", "NORMAL").upper()
if SQLITE_SYNCHRONOUS not in {"NORMAL", "FULL"}:
    raise ImproperlyConfigured("WAYSTATION_SQLITE_SYNCHRONOUS must be NORMAL or FULL.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with writers queued on a lock file instead of SQLite's busy sleeps.
    DATABASES["default"]["ENGINE"] = "waystation.lib.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE avoids lock-upgrade deadlocks between processes; WAL lets readers run
        # beside the writer; NORMAL sync is durable across application crashes in WAL mode.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            f"PRAGMA journal_mode=WAL;PRAGMA synchronous={SQLITE_SYNCHRONOUS};"
            "PRAGMA foreign_keys=ON;"
        ),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Choice fields iterate their querysets; on PostgreSQL that would be a server-side
    # cursor WITH HOLD per field (three round trips and a materialized copy) for lists of a
    # few dozen rows. Plain fetches are cheaper, and work behind a transaction-mode pooler.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and sessions --------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "pages:dashboard"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 14},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "waystation.accounts.passwords.VarietyValidator"},
]

SESSION_ENGINE = "waystation.lib.sessions"
SESSION_COOKIE_NAME = "sid"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("WAYSTATION_SESSION_IDLE_MINUTES", 30, minimum=1))
SESSION_MAX_AGE = timedelta(hours=env_int("WAYSTATION_SESSION_MAX_HOURS", 12, minimum=1))
SESSION_COOKIE_AGE = int(SESSION_MAX_AGE.total_seconds())
REAUTH_MAX_AGE = timedelta(minutes=env_int("WAYSTATION_REAUTH_MINUTES", 10, minimum=1))
LOGIN_FAILURE_LIMIT = env_int("WAYSTATION_LOGIN_FAILURE_LIMIT", 5, minimum=1)
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "waystation.pages.views.csrf_failure"
# Django looks for its own CSRF middleware by name; ours subclasses it (docs/decisions/0004)
# and waystation.E004 checks that it is installed instead.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

OTP_TOTP_ISSUER = SITE_TITLE
OTP_TOTP_THROTTLE_FACTOR = 1

# --- HTTPS and headers -------------------------------------------------------------------

HTTPS = env_bool("WAYSTATION_HTTPS", default=PRODUCTION)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("WAYSTATION_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Languages ---------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ar", "العربية"),
    ("fa", "فارسی"),
    ("ru", "Русский"),
    ("pt", "Português"),
    ("tr", "Türkçe"),
    ("sw", "Kiswahili"),
    ("uk", "Українська"),
]
LOCALE_PATHS = [BASE_DIR / "waystation" / "locale"]
LANGUAGE_COOKIE_NAME = "lang"
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_HTTPONLY = True
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("WAYSTATION_TIME_ZONE", "UTC")

# --- Static files ------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = not PRODUCTION
S3_BUCKET = env_str("WAYSTATION_S3_BUCKET")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Encrypted files only: the vault writes ciphertext under random names.
    "vault": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                "endpoint_url": env_str("WAYSTATION_S3_ENDPOINT_URL") or None,
                "access_key": env_str("WAYSTATION_S3_ACCESS_KEY") or None,
                "secret_key": env_secret("WAYSTATION_S3_SECRET_KEY") or None,
                "file_overwrite": False,
                "default_acl": "private",
            },
        }
        if S3_BUCKET
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(DATA_DIR / "files"), "file_permissions_mode": 0o600},
        }
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}

# --- Vault ---------------------------------------------------------------------------------

# Argon2id cost for wrapping staff private keys with their password: at least 64 MiB, and
# enough passes for about half a second (`manage.py calibrate_vault` measures this server).
VAULT_KDF_MEMORY_MIB = env_int("WAYSTATION_VAULT_KDF_MEMORY_MIB", 64, minimum=8)
VAULT_KDF_OPS = env_int("WAYSTATION_VAULT_KDF_OPS", 20, minimum=1)
# Keys of the blind indexes, newest first; rotation puts a new key in front (see
# docs/decisions/0006-key-hierarchy.md). Empty: one key derived from SECRET_KEY.
BLIND_INDEX_KEYS = [key for key in env_secret("WAYSTATION_BLIND_INDEX_KEYS").split(",") if key]
# Public half of the offline backup key (base64); backups are encrypted to it.
BACKUP_PUBLIC_KEY = env_str("WAYSTATION_BACKUP_PUBLIC_KEY")
VAULT_FILE_CHUNK_BYTES = 64 * 1024

# --- Public intake ------------------------------------------------------------------------

# Days a follow-up code keeps working after its last use (separate from case retention).
FOLLOW_UP_VALID_DAYS = env_int("WAYSTATION_FOLLOW_UP_VALID_DAYS", 180, minimum=1)
# Where quick exit goes: a neutral, common site.
QUICK_EXIT_URL = env_str("WAYSTATION_QUICK_EXIT_URL", "https://www.google.com/search?q=weather")
# The promised time to a first answer, shown to people who ask for help.
RESPONSE_DAYS = env_int("WAYSTATION_RESPONSE_DAYS", 14, minimum=1)
EVIDENCE_MAX_BYTES = env_int("WAYSTATION_EVIDENCE_MAX_MB", 10, minimum=1) * 1024 * 1024
EVIDENCE_MAX_FILES = env_int("WAYSTATION_EVIDENCE_MAX_FILES", 5, minimum=1)
# Abuse resistance (waystation/intake/abuse.py): proof-of-work difficulty in bits, the wait
# asked of forms sent without JavaScript, and hourly caps. Per-source caps skip the shared
# addresses (a Tor onion service or reverse proxy makes every sender look the same).
INTAKE_PROOF_BITS = env_int("WAYSTATION_INTAKE_PROOF_BITS", 16, minimum=1)
INTAKE_MIN_SECONDS_WITHOUT_PROOF = env_int("WAYSTATION_INTAKE_MIN_SECONDS_WITHOUT_PROOF", 5)
INTAKE_MAX_PER_HOUR = env_int("WAYSTATION_INTAKE_MAX_PER_HOUR", 20000, minimum=1)
INTAKE_MAX_PER_SOURCE_HOUR = env_int("WAYSTATION_INTAKE_MAX_PER_SOURCE_HOUR", 20, minimum=1)
INTAKE_MAX_UNPROVEN_PER_HOUR = env_int("WAYSTATION_INTAKE_MAX_UNPROVEN_PER_HOUR", 500, minimum=1)
INTAKE_SHARED_ADDRESSES = env_list("WAYSTATION_INTAKE_SHARED_ADDRESSES", "127.0.0.1,::1")
# Wrong follow-up codes allowed per minute across the whole site (keeps floods off the database).
FOLLOW_UP_FAILURES_PER_MINUTE = env_int("WAYSTATION_FOLLOW_UP_FAILURES_PER_MINUTE", 300, minimum=1)
# Wrong follow-up codes allowed per source in 15 minutes; shared addresses have no such budget.
FOLLOW_UP_FAILURES_PER_SOURCE = env_int("WAYSTATION_FOLLOW_UP_FAILURES_PER_SOURCE", 10, minimum=1)

# --- Cache ---------------------------------------------------------------------------------

# Counters for the caps and the daily salt. The default lives in each process's memory;
# with several app processes, point all of them at one Redis so caps are shared.
REDIS_URL = env_str("WAYSTATION_REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- E-mail (content-free alerts to staff) -----------------------------------------------

EMAIL_HOST = env_str("WAYSTATION_EMAIL_HOST")
EMAIL_PORT = env_int("WAYSTATION_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("WAYSTATION_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_secret("WAYSTATION_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("WAYSTATION_EMAIL_TLS", default=True)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("WAYSTATION_EMAIL_FROM", "waystation@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging -----------------------------------------------------------------------------

# Django's request logger records paths and status codes only; no handler here adds
# addresses or user agents. The server access log is the operator's to switch off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("WAYSTATION_LOG_LEVEL", "INFO")},
    "loggers": {
        # Disallowed-host reports would echo attacker-chosen host headers into the log.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # The dossier's PDF renderer reports on the document it draws (CSS it skipped, fonts,
        # images): nothing of a case may reach a log, so it says nothing.
        "weasyprint": {"handlers": [], "propagate": False},
        "fontTools": {"handlers": [], "propagate": False},
        "pypdf": {"handlers": [], "propagate": False},
    },
}
