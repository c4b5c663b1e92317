"""The migration that seals the committee's override reasons: it holds no keys, so it
refuses to run while a reason is written in plaintext rather than drop it."""

import pytest

from conftest import migrate_to
from waystation.cases.tests.factories import make_case

BEFORE = [("funding", "0003_receipts")]
AFTER = [("funding", "0004_seal_override_reason")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_a_plaintext_override_reason_stops_the_migration_until_it_is_emptied() -> None:
    case = make_case(state="awaiting_funding")
    old = migrate_to(BEFORE)
    keyring = old.get_model("vault", "Keyring").objects.create()
    request = old.get_model("funding", "FundingRequest").objects.create(
        reference="F-MIGRAT", case_id=case.pk, keyring=keyring, country="UG"
    )
    meeting = old.get_model("funding", "Meeting").objects.create(
        held_on="2026-01-05", quorum=1, keyring=keyring
    )
    items = old.get_model("funding", "AgendaItem").objects
    written = items.create(
        meeting=meeting, request=request, keyring=keyring, override_reason="Pledged"
    )
    with pytest.raises(RuntimeError, match="1 agenda item"):
        migrate_to(AFTER)
    assert items.get(pk=written.pk).override_reason == "Pledged"  # nothing dropped
    items.filter(pk=written.pk).update(override_reason="")
    new = migrate_to(AFTER)
    assert new.get_model("funding", "AgendaItem").objects.get().override_reason is None
