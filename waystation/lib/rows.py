"""Inserting and reading model rows with SQL built once per model and database, for the few
queries every public request for help makes, inside one transaction under a surge.

The ORM rebuilds each INSERT statement on every `save()` and `bulk_create()`; for the dozen
rows a request stores, that building cost more than the database's own work, and it ran
while the single SQLite writer was held. Values still go through each field's own
`pre_save` and `get_db_prep_save`, exactly as the ORM converts them, and `prepare` does
that before the transaction, so the writer is held for the statements alone. `fetch` reads
rows back through each column's converters, as a queryset does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models
from django.db.models.fields import AutoFieldMixin, Field

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Prepared:
    """INSERT statements with their converted values, ready to run (`run`)."""

    using: str
    statements: list[tuple[str, list[list[Any]]]]
    objects: list[models.Model]

    def run(self) -> None:
        """Run the statements in the caller's transaction, in order. Raises the database's
        IntegrityError as `save()` would."""
        connection = connections[self.using]
        with connection.cursor() as cursor:
            for sql, values in self.statements:
                if len(values) == 1:
                    cursor.execute(sql, values[0])
                else:
                    cursor.executemany(sql, values)
        for obj in self.objects:
            obj._state.adding = False
            obj._state.db = self.using


@dataclass(frozen=True)
class Values:
    """Rows of one model given as their column values, by attribute name (`keyring_id`),
    for many small rows that need no instance (a request's blind-index tokens): building a
    model instance costs more than converting its values. Every concrete field but an
    auto-incremented key must be named; no default or `pre_save` applies."""

    model: type[models.Model]
    rows: list[dict[str, Any]]


def prepare(objects: Iterable[models.Model | Values], *, using: str = "default") -> Prepared:
    """The rows of these unsaved instances (and `Values`) as INSERT statements, one per
    model in order of first appearance. Like `bulk_create`: no model signals, no `save()`
    overrides, and a key the database assigns (an integer id) is not read back. Defaults
    and `auto_now_add` values are set on the instances now. Raises KeyError for a `Values`
    row that leaves a column out."""
    by_model: dict[type[models.Model], list[models.Model | dict[str, Any]]] = {}
    instances: list[models.Model] = []
    for obj in objects:
        if isinstance(obj, Values):
            by_model.setdefault(obj.model, []).extend(obj.rows)
        else:
            by_model.setdefault(type(obj), []).append(obj)
            instances.append(obj)
    connection = connections[using]
    statements = []
    for model, rows in by_model.items():
        sql, fields = _statement(model, connection.vendor, using)
        values = [
            [field.get_db_prep_save(row[field.attname], connection) for field in fields]
            if isinstance(row, dict)
            else [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
            for row in rows
        ]
        statements.append((sql, values))
    return Prepared(using, statements, instances)


def insert(objects: Iterable[models.Model | Values], *, using: str = "default") -> None:
    """`prepare` the rows and run them at once, in the caller's transaction."""
    prepare(objects, using=using).run()


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


def fetch(model: type[M], sql: str, params: Iterable[Any], *, using: str = "default") -> list[M]:
    """Instances of `model` from SQL (built once, e.g. from a queryset's `sql_with_params`)
    whose first columns are the model's concrete fields in their declared order; later
    columns (those an ORDER BY needs, say) are ignored. Each value goes through the
    database's and the field's converters, as a queryset's would."""
    connection = connections[using]
    names, converters = _readers(model, connection.vendor, using)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        found = cursor.fetchall()
    width = len(names)
    instances: list[M] = []
    for row in found:
        values = list(row[:width])
        for position, convert, column in converters:
            value = values[position]
            for converter in convert:
                value = converter(value, column, connection)
            values[position] = value
        instances.append(model.from_db(using, names, values))
    return instances


@functools.cache
def _readers(
    model: type[models.Model], vendor: str, using: str
) -> tuple[list[str], list[tuple[int, list[Any], Any]]]:
    connection = connections[using]
    names, converters = [], []
    for position, field in enumerate(model._meta.concrete_fields):
        names.append(field.attname)
        column = field.get_col(model._meta.db_table)
        convert = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if convert:
            converters.append((position, convert, column))
    return names, converters
