from typing import Any

from django.conf import settings
from django.http import HttpRequest

from waystation.accounts.models import Role, User


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)

    # Evaluated only when a template asks, so error pages render without the database.
    def is_coordinator() -> bool:
        return isinstance(user, User) and user.has_role(Role.COORDINATOR)

    def works_a_queue() -> bool:
        return isinstance(user, User) and user.has_role(
            Role.INTAKE_VOLUNTEER, Role.CASEWORKER, Role.SURGE_VOLUNTEER
        )

    def reads_partners() -> bool:
        return isinstance(user, User) and user.has_role(
            Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER
        )

    def sees_verification() -> bool:
        return isinstance(user, User) and user.has_role(
            Role.INTAKE_VOLUNTEER, Role.CASEWORKER, Role.VERIFIER, Role.COORDINATOR
        )

    def sits_on_committee() -> bool:
        return isinstance(user, User) and user.has_role(Role.COMMITTEE_MEMBER)

    def is_finance() -> bool:
        return isinstance(user, User) and user.has_role(Role.FINANCE)

    def is_partner() -> bool:
        return isinstance(user, User) and user.has_role(Role.PARTNER)

    return {
        "works_a_queue": works_a_queue,
        "reads_partners": reads_partners,
        "is_partner": is_partner,
        "sits_on_committee": sits_on_committee,
        "is_finance": is_finance,
        "sees_verification": sees_verification,
        "site_title": settings.SITE_TITLE,
        "quick_exit_url": settings.QUICK_EXIT_URL,
        "favicon": settings.FAVICON,
        "demo_mode": settings.DEMO_MODE,
        "is_coordinator": is_coordinator,
    }
