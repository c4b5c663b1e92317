from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def check_reporting_currency(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .money import is_currency

    if not is_currency(settings.FUNDING_CURRENCY):
        return [
            checks.Error(
                f"WAYSTATION_FUNDING_CURRENCY is {settings.FUNDING_CURRENCY!r}, which is no "
                "ISO 4217 currency code.",
                hint="Use the code of the currency the committee reports in, e.g. EUR or CAD.",
                id="waystation.E010",
            )
        ]
    return []
