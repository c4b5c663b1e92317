"""Configuration mistakes reported as Django system checks, with the variable to fix."""

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if settings.DEMO_MODE:
        problems.append(
            checks.Error(
                "WAYSTATION_DEMO is on: demo accounts with printed passwords can sign in.",
                hint="Unset WAYSTATION_DEMO on any server that holds real cases.",
                id="waystation.E001",
            )
        )
    if not settings.HTTPS:
        problems.append(
            checks.Warning(
                "WAYSTATION_HTTPS is off: cookies can travel over plain HTTP.",
                hint="Serve over HTTPS and set WAYSTATION_HTTPS=true.",
                id="waystation.W001",
            )
        )
    if not settings.EMAIL_HOST:
        problems.append(
            checks.Warning(
                "WAYSTATION_EMAIL_HOST is empty: staff alerts are printed to the log, not sent.",
                hint="Set WAYSTATION_EMAIL_HOST (and user, password) to a mail server.",
                id="waystation.W002",
            )
        )
    if settings.AUDIT_KEY and len(settings.AUDIT_KEY) < 32:
        problems.append(
            checks.Error(
                "WAYSTATION_AUDIT_KEY is shorter than 32 characters.",
                hint="Use a long random value, or leave it unset to derive it from SECRET_KEY.",
                id="waystation.E002",
            )
        )
    return problems


@checks.register(checks.Tags.security)
def check_csrf_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if "waystation.pages.csrf.SameOriginCsrfViewMiddleware" not in settings.MIDDLEWARE:
        return [
            checks.Error(
                "CSRF protection is not installed.",
                hint="Keep waystation.pages.csrf.SameOriginCsrfViewMiddleware in MIDDLEWARE.",
                id="waystation.E004",
            )
        ]
    return []


@checks.register(checks.Tags.database)
def check_database(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine not in {"waystation.lib.sqlite", "django.db.backends.postgresql"}:
        return [
            checks.Error(
                f"DATABASE_URL selects {engine}; Waystation supports SQLite and PostgreSQL.",
                hint="Use sqlite:///path or postgres://user@host:port/name.",
                id="waystation.E003",
            )
        ]
    return []


def refuse_to_start_on_errors() -> None:
    """Run every check, deployment ones included, and stop the server on any error."""
    problems = checks.run_checks(include_deployment_checks=settings.PRODUCTION)
    errors = [p for p in problems if p.level >= checks.ERROR and not p.is_silenced()]
    if errors:
        raise ImproperlyConfigured("; ".join(str(error) for error in errors))
