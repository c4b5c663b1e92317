"""The funding commands: importing exchange rates all or nothing, and checking the books."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from waystation.funding.models import Account, ExchangeRate

from .factories import deposit, make_fund

pytestmark = pytest.mark.django_db


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_bytes(text.encode())
    return path


def test_rates_are_imported_whole(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FUNDING_CURRENCY = "EUR"
    out = StringIO()
    call_command(
        "import_exchange_rates",
        _file(tmp_path, "currency,date,rate\nUGX,2026-01-05,0.00025\nusd,2026-01-05,0.91\n"),
        stdout=out,
    )
    assert "Imported 2 exchange rates" in out.getvalue()
    assert ExchangeRate.objects.get(currency="USD").rate == Decimal("0.91")


def test_a_bad_file_imports_nothing_and_names_each_line(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FUNDING_CURRENCY = "EUR"
    text = (
        "currency,date,rate\nUGX,2026-01-05,0.00025\nZZZ,2026-01-05,1\nKES,05/01/2026,0.007\n"
        "USD,2026-01-05,-1\nUGX,2026-01-05,0.0003\nEUR,2026-01-05,1\nTZS,2026-01-05,abc\n"
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_exchange_rates", _file(tmp_path, text))
    message = str(refused.value)
    for expected in (
        "line 3: 'ZZZ'",
        "line 4: '05/01/2026' is not a date",
        "line 5: a rate must be more than zero",
        "line 6: UGX on 2026-01-05 again (first on line 2)",
        "line 7: 'EUR'",
        "line 8: 'abc' is not a number",
    ):
        assert expected in message
    assert not ExchangeRate.objects.exists()
    with pytest.raises(CommandError, match="expected the columns"):
        call_command("import_exchange_rates", _file(tmp_path, "code;day;value\n"))


def test_the_books_are_checked() -> None:
    fund = make_fund()
    deposit(fund, "50")
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "The ledger balances." in out.getvalue()
    # A balance changed around the ledger is found.
    Account.objects.filter(fund=fund, kind="available").update(balance=Decimal("49"))
    with pytest.raises(CommandError, match="is not the sum of its entries"):
        call_command("check_ledger")
