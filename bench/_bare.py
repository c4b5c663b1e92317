"""A bare Django app, the baseline for bench/intake_load.py: one page with a 3-field form;
its POST validates the form, encrypts one field (XChaCha20-Poly1305, as the vault does)
and inserts one row into SQLite (WAL, persistent connections, IMMEDIATE transactions).

Not a benchmark itself (bench/run.py skips files starting with "_"): intake_load.py serves
it with gunicorn, `_bare:application`, with BARE_DB and BARE_SECRET_KEY in the environment.
"""

import os
import secrets
import sqlite3

import django
import nacl.bindings as sodium
from django.conf import settings

DB = os.environ["BARE_DB"]
PRAGMAS = "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ["BARE_SECRET_KEY"],
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DB,
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": PRAGMAS,
            },
        }
    },
    USE_TZ=True,
)
django.setup()

from django import forms  # noqa: E402 - after settings.configure
from django.db import connection, transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.html import escape  # noqa: E402

with sqlite3.connect(DB, timeout=20) as schema:
    schema.executescript(
        PRAGMAS + "CREATE TABLE IF NOT EXISTS submission (id INTEGER PRIMARY KEY,"
        " received_at TEXT NOT NULL, country TEXT NOT NULL, risk TEXT NOT NULL,"
        " narrative BLOB NOT NULL, code TEXT NOT NULL UNIQUE);"
    )
schema.close()

KEY = secrets.token_bytes(32)


class SubmissionForm(forms.Form):
    country = forms.CharField(min_length=2, max_length=2)
    risk = forms.ChoiceField(choices=[("now", "now"), ("weeks", "weeks"), ("ongoing", "ongoing")])
    narrative = forms.CharField(min_length=20, max_length=10_000)


def page(request: HttpRequest, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        f"<!doctype html><html><head><title>Bare</title></head><body>{body}</body></html>",
        status=status,
    )


def submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        token = escape(get_token(request))
        form = SubmissionForm()
        return page(
            request,
            f'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{token}">{form.as_div()}<button>Send</button></form>',
        )
    form = SubmissionForm(request.POST)
    if not form.is_valid():
        return page(request, str(form.errors), status=400)
    data = form.cleaned_data
    code = secrets.token_hex(14)
    nonce = secrets.token_bytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    sealed = nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        data["narrative"].encode(), b"narrative", nonce, KEY
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO submission (received_at, country, risk, narrative, code)"
            " VALUES (%s, %s, %s, %s, %s)",
            [timezone.now().isoformat(), data["country"], data["risk"], sealed, code],
        )
    return page(request, f'<p class="follow-up-code">{code}</p>')


urlpatterns = [path("ask/", submit)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
