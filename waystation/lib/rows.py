"""Inserting model rows with SQL built once per model and database, for the few writes every
public request for help makes inside one transaction under a surge.

The ORM rebuilds each INSERT statement on every `save()` and `bulk_create()`; for the dozen
rows a request stores, that building cost more than the database's own work, and it ran
while the single SQLite writer was held. Values still go through each field's own
`pre_save` and `get_db_prep_save`, exactly as the ORM converts them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.db import connections, models
from django.db.models.fields import AutoFieldMixin, Field


def insert(objects: Iterable[models.Model], *, using: str = "default") -> None:
    """INSERT the rows of these unsaved instances, one statement per model in order of first
    appearance, in the caller's transaction. Like `bulk_create`: no model signals, no
    `save()` overrides, and a key the database assigns (an integer id) is not read back.
    Raises the database's IntegrityError as `save()` would."""
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for obj in objects:
        by_model.setdefault(type(obj), []).append(obj)
    connection = connections[using]
    with connection.cursor() as cursor:
        for model, rows in by_model.items():
            sql, fields = _statement(model, connection.vendor, using)
            values = [
                [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
                for obj in rows
            ]
            if len(values) == 1:
                cursor.execute(sql, values[0])
            else:
                cursor.executemany(sql, values)
            for obj in rows:
                obj._state.adding = False
                obj._state.db = using


@functools.cache
def _statement(
    model: type[models.Model], vendor: str, using: str
) -> tuple[str, list[Field[Any, Any]]]:
    quote = connections[using].ops.quote_name
    # The database assigns auto-incremented keys; every other column is written.
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, AutoFieldMixin))
    ]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = quote(str(model._meta.db_table))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})", fields  # noqa: S608 - quoted names only
