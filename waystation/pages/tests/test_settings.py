"""Settings refuse unsafe production configurations with messages that name the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

ROOT = Path(__file__).resolve().parents[3]
STRONG = "k" + "".join(chr(48 + (i * 7) % 75) for i in range(70))


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("WAYSTATION_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WAYSTATION_ALLOWED_HOSTS": "example.org"}, "WAYSTATION_SECRET_KEY"),
        ({"WAYSTATION_SECRET_KEY": "short", "WAYSTATION_ALLOWED_HOSTS": "x.org"}, "too weak"),
        (
            {
                "WAYSTATION_SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 6,
                "WAYSTATION_ALLOWED_HOSTS": "x.org",
            },
            "too weak",
        ),
        ({"WAYSTATION_SECRET_KEY": STRONG}, "WAYSTATION_ALLOWED_HOSTS"),
        ({"WAYSTATION_DEBUG": "maybe"}, "WAYSTATION_DEBUG must be true or false"),
        (
            {"WAYSTATION_DEMO": "1", "WAYSTATION_SESSION_IDLE_MINUTES": "soon"},
            "WAYSTATION_SESSION_IDLE_MINUTES must be a whole number",
        ),
    ],
)
def test_production_refuses_to_start(env: dict[str, str], message: str) -> None:
    result = _start(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_a_strong_key_and_hosts() -> None:
    result = _start({"WAYSTATION_SECRET_KEY": STRONG, "WAYSTATION_ALLOWED_HOSTS": "example.org"})
    assert result.returncode == 0, result.stderr


def test_debug_is_off_unless_asked() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.HTTPS, settings.SESSION_COOKIE_SECURE)",
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("WAYSTATION_")},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "WAYSTATION_SECRET_KEY": STRONG,
            "WAYSTATION_ALLOWED_HOSTS": "x.org",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.split() == ["False", "True", "True"]


def test_deploy_checks_flag_demo_mode_and_missing_mail(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = True
    settings.EMAIL_HOST = ""
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True)}
    assert {"waystation.E001", "waystation.W002"} <= ids


def test_wsgi_refuses_to_start_on_check_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("WAYSTATION_")},
            "WAYSTATION_SECRET_KEY": STRONG,
            "WAYSTATION_ALLOWED_HOSTS": "x.org",
            "WAYSTATION_AUDIT_KEY": "short",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "WAYSTATION_AUDIT_KEY" in result.stderr


def test_missing_csrf_middleware_is_an_error(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "waystation.pages.csrf.SameOriginCsrfViewMiddleware"
    ]
    assert "waystation.E004" in {m.id for m in checks.run_checks()}
