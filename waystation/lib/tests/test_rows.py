"""Rows inserted with SQL built once read back exactly as the ORM would have written them."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from waystation.cases.models import CrisisResponse
from waystation.lib import rows
from waystation.vault.models import BlindIndexToken, Keyring

pytestmark = pytest.mark.django_db


def test_inserted_rows_read_back_as_the_orm_writes_them() -> None:
    moment = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    keyring = Keyring(created_at=moment)
    response = CrisisResponse(
        name="Capital fell", countries=["AF", "PK"], starts_on=date(2026, 5, 1), ends_on=None
    )
    tokens = [
        BlindIndexToken(keyring=keyring, kind="phone", token="a" * 32, key_version=2),
        BlindIndexToken(keyring=keyring, kind="email", token="b" * 32, key_version=2),
    ]
    with transaction.atomic():
        rows.insert([keyring, response, *tokens])
    stored = Keyring.objects.get(pk=keyring.pk)
    assert stored.created_at == moment and stored.shredded_at is None
    read = CrisisResponse.objects.get(pk=response.pk)
    assert (read.countries, read.starts_on, read.ends_on) == (["AF", "PK"], date(2026, 5, 1), None)
    # Defaults are taken as the ORM takes them (created_at from timezone.now).
    assert abs(read.created_at - response.created_at) < timedelta(seconds=1)
    assert sorted(BlindIndexToken.objects.filter(keyring=keyring).values_list("kind", "token")) == [
        ("email", "b" * 32),
        ("phone", "a" * 32),
    ]
    assert not keyring._state.adding


def test_a_refused_row_raises_and_the_transaction_keeps_nothing() -> None:
    taken = Keyring.objects.create()
    fresh = Keyring()
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert([fresh, Keyring(id=taken.pk)])
    assert not Keyring.objects.filter(pk=fresh.pk).exists()


def test_nothing_to_insert_is_no_statement(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(0):
        rows.insert([])


def test_prepared_rows_touch_the_database_only_when_run(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    keyring = Keyring()
    token = BlindIndexToken(keyring=keyring, kind="name", token="c" * 32)
    with django_assert_num_queries(0):
        prepared = rows.prepare([keyring, token])
    with django_assert_num_queries(2), transaction.atomic(savepoint=False):
        prepared.run()
    assert BlindIndexToken.objects.filter(keyring=keyring, kind="name").count() == 1


def test_values_rows_join_the_instances_of_their_model() -> None:
    keyring = Keyring()
    instance = BlindIndexToken(keyring=keyring, kind="phone", token="d" * 32)
    values = rows.Values(
        BlindIndexToken,
        [
            {"keyring_id": keyring.pk, "kind": "name", "token": "e" * 32, "key_version": 3},
            {"keyring_id": keyring.pk, "kind": "email", "token": "f" * 32, "key_version": 3},
        ],
    )
    prepared = rows.prepare([keyring, instance, values])
    # One statement per model: the instance and the two values rows go in together.
    assert [len(batch) for _sql, batch in prepared.statements] == [1, 3]
    assert prepared.objects == [keyring, instance]
    with transaction.atomic():
        prepared.run()
    assert sorted(
        BlindIndexToken.objects.filter(keyring=keyring).values_list("kind", "token", "key_version")
    ) == [("email", "f" * 32, 3), ("name", "e" * 32, 3), ("phone", "d" * 32, 1)]


def test_values_rows_must_name_every_column() -> None:
    with pytest.raises(KeyError):
        rows.prepare([rows.Values(BlindIndexToken, [{"kind": "name", "token": "g" * 32}])])
