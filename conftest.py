"""Shared fixtures: named people per role, signed in through the real session machinery."""

import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from waystation.accounts.access import SESSION_AUTH_AT, SESSION_REAUTH_AT, SESSION_SEEN_AT
from waystation.accounts.models import Agreement, AgreementAcceptance, Membership, Role, Team, User

PASSWORD = "correct horse battery staple 42"

# Browser tests drive Debian's chromium through Playwright (never a downloaded browser).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Skipped on a machine without chromium; never in CI, which installs it.
NEEDS_CHROMIUM = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI installs it)",
    ),
]


def totp_token(device: TOTPDevice, *, offset: int = 0) -> str:
    """The code an authenticator app would show now (or `offset` steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    return str(totp.token()).zfill(device.digits)


def next_totp_token(device: TOTPDevice) -> str:
    """A code the device has not seen yet: the current step, or the next one if used."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    offset = 1 if device.last_t >= totp.t() else 0
    return totp_token(device, offset=offset)


def make_user(
    role: str | None = None,
    *,
    email: str | None = None,
    enrolled: bool = True,
    accepted: bool = True,
    keys: bool = False,
    **fields: object,
) -> User:
    """A staff account built the way services build them, optionally with a team role,
    a confirmed authenticator and the current agreements accepted."""
    name = role or "outsider"
    user = User.objects.create_user(
        email or f"{name.replace('_', '-')}-{User.objects.count()}@example.org",
        PASSWORD,
        display_name=name.replace("_", " ").title(),
        **fields,
    )
    if role:
        team, _ = Team.objects.get_or_create(name=f"Team {role}", defaults={"role": role})
        Membership.objects.create(team=team, user=user)
    if enrolled:
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    if accepted:
        for agreement in Agreement.objects.all():
            AgreementAcceptance.objects.get_or_create(agreement=agreement, user=user)
    if keys:
        from waystation.vault.services import create_user_key

        create_user_key(user, PASSWORD)
    return user


def sign_in(client: Client, user: User) -> Client:
    """Put `user` in `client` as fully signed in with a second factor, without the forms."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    session = client.session
    if device is not None:
        session["otp_device_id"] = device.persistent_id
    now = time.time()
    session[SESSION_AUTH_AT] = session[SESSION_SEEN_AT] = session[SESSION_REAUTH_AT] = now
    session.save()
    return client


@pytest.fixture
def user_factory(db: None) -> Callable[..., User]:
    return make_user


def _role_fixture(role: str) -> Callable[..., User]:
    @pytest.fixture
    def person(db: None) -> User:
        return make_user(role)

    return person


intake_volunteer = _role_fixture(Role.INTAKE_VOLUNTEER)
caseworker = _role_fixture(Role.CASEWORKER)
verifier = _role_fixture(Role.VERIFIER)
committee_member = _role_fixture(Role.COMMITTEE_MEMBER)
finance = _role_fixture(Role.FINANCE)
coordinator = _role_fixture(Role.COORDINATOR)
partner = _role_fixture(Role.PARTNER)
support_volunteer = _role_fixture(Role.SUPPORT_VOLUNTEER)
host = _role_fixture(Role.HOST)


@pytest.fixture
def outsider(db: None) -> User:
    """A signed-in, verified staff account in no team: sees nothing beyond its own account."""
    return make_user(None)


@pytest.fixture
def coordinator_client(client: Client, coordinator: User) -> Client:
    return sign_in(client, coordinator)


BROWSER_TIMEOUT_MS = 10_000


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    """Debian's chromium, headless, for one test."""
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the test's own ORM calls are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=3 * BROWSER_TIMEOUT_MS
        )
        yield launched
        launched.close()


def new_page(browser, **options: object):  # type: ignore[no-untyped-def]
    """A page in a fresh context (no cookies), and the list of addresses it asked for
    outside the live server: every wait bounded, every outside request recorded."""
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
    outside: list[str] = []
    context.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(("http://localhost", "data:"))
            else None
        ),
    )
    return context.new_page(), outside


@pytest.fixture(autouse=True)
def _plain_static_files(settings) -> None:  # type: ignore[no-untyped-def]
    # Production mode expects `collectstatic` to have built a manifest; tests use the sources.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    # A test that leaves another language active (a request in Arabic, say) must not change
    # the words the next test reads.
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # Argon2 costs ~0.1 s a hash by design; tests that are about hashing ask for it back.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def vault_storage(settings, tmp_path):  # type: ignore[no-untyped-def]
    """The encrypted file store in a fresh folder for the test."""
    from django.core.files.storage import storages

    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }
    storages._storages = {}  # type: ignore[attr-defined]
    yield tmp_path / "files"
    storages._storages = {}  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The test database, with tables for the models tests define themselves (the vault's
    CanaryRecord). Such a model is registered as soon as its tests are collected, and a
    backup dumps every registered model, whichever app's test writes it."""
    from django.apps import apps
    from django.db import connection

    with django_db_blocker.unblock():
        existing = set(connection.introspection.table_names())
        # Only models of test modules: a project model without a table is a missing
        # migration, which must fail.
        added = [
            model
            for model in apps.get_models()
            if ".tests." in model.__module__ and model._meta.db_table not in existing
        ]
        with connection.schema_editor() as editor:
            for model in added:
                editor.create_model(model)
    yield
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        for model in added:
            editor.delete_model(model)


def same_cost(
    client: Client,
    url: str,
    add_rows: Callable[[int], None],
    assert_max_num_queries: Any,
    *,
    ceiling: int = 20,
    many: int = 12,
) -> str:
    """The N+1 guard of a list page: build 2 rows (`add_rows(count)`), measure the page (at
    most `ceiling` queries), build more up to `many` and hold the page to the count
    measured. Returns the page with every row."""
    add_rows(2)
    assert client.get(url).status_code == 200  # warm the session and the sign-in checks
    with assert_max_num_queries(ceiling) as few:
        assert client.get(url).status_code == 200
    add_rows(many - 2)
    with assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def migrate_to(targets: list[tuple[str, str]]) -> Any:
    """Migrate the test database to `targets`; the models as they are there. Tests that call
    it use the `back_to_latest` fixture and `django_db(transaction=True)`."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """Whatever the test leaves, the next one finds the database fully migrated."""
    yield
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
