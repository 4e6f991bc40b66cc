"""Inserting rows in one statement on PostgreSQL.

- ``insert_new`` for rows whose unique key names their cause (an outbox message, an
  idempotency key): the first writer wins, later ones learn they were late, and the caller's
  transaction stays usable either way.
- ``insert_rows`` for new rows of the hot paths (placing an order writes five tables):
  ``bulk_create`` without its per-call bookkeeping, which cost more CPU than the database
  spent on the insert (docs/performance.md, "Where the time goes").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import IntegrityError, connection, models, transaction

M = TypeVar("M", bound=models.Model)


def insert_rows(rows: Sequence[M]) -> list[M]:
    """Inserts new rows of one model and sets their primary keys, as ``bulk_create`` does:
    field ``pre_save`` hooks run (``auto_now_add``), no signals are sent. Either every row
    has its primary key already (drawn from the sequence beforehand) or none has. On
    PostgreSQL one ``INSERT ... RETURNING``; elsewhere ``bulk_create``."""
    if not rows:
        return []
    model = type(rows[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(rows)
    for row in rows:  # a related row saved after this one was built lends it its key now
        row._prepare_related_fields_for_save(operation_name="insert_rows")  # type: ignore[attr-defined]
    with_pk = rows[0].pk is not None
    if any((row.pk is not None) != with_pk for row in rows):
        raise ValueError("insert_rows: either every row has its primary key or none has.")
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(model, len(rows), with_pk=with_pk)
            + f" RETURNING {connection.ops.quote_name(str(model._meta.pk.column))}",
            _params(rows, _insert_fields(model, with_pk=with_pk)),
        )
        keys = cursor.fetchall()
    for row, (pk,) in zip(rows, keys, strict=True):
        _mark_saved(row, pk)
    return list(rows)


def insert_new(rows: Sequence[M], *, unique: Sequence[str]) -> list[M]:
    """Inserts the rows whose ``unique`` fields hold values not stored yet and returns them,
    with their primary keys; the others are left out. A concurrent transaction inserting the
    same values is waited for, as the unique index makes any insert wait.

    On PostgreSQL one ``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING``; elsewhere one
    insert per row, each in a savepoint."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return [row for row in rows if _insert_in_savepoint(row)]
    model = type(rows[0])
    by_name = {f.name: f for f in _insert_fields(model)}
    unique_fields = [by_name[name] for name in unique]
    quote = connection.ops.quote_name
    unique_columns = ", ".join(quote(str(f.column)) for f in unique_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(model, len(rows))
            + f" ON CONFLICT ({unique_columns}) DO NOTHING"
            + f" RETURNING {quote(str(model._meta.pk.column))}, {unique_columns}",
            _params(rows, _insert_fields(model)),
        )
        inserted = {tuple(found[1:]): found[0] for found in cursor.fetchall()}
    written = []
    for row in rows:
        pk = inserted.pop(tuple(getattr(row, f.attname) for f in unique_fields), None)
        if pk is not None:
            _mark_saved(row, pk)
            written.append(row)
    return written


@cache
def _insert_fields(model: type[models.Model], *, with_pk: bool = False) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]


def _insert_sql(model: type[models.Model], count: int, *, with_pk: bool = False) -> str:
    head, placeholders = _insert_parts(model, with_pk=with_pk)
    return head + ", ".join([placeholders] * count)


@cache
def _insert_parts(model: type[models.Model], *, with_pk: bool) -> tuple[str, str]:
    quote = connection.ops.quote_name
    fields = _insert_fields(model, with_pk=with_pk)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608  (names from the model)
    return head, "(" + ", ".join(["%s"] * len(fields)) + ")"


def _params(rows: Sequence[models.Model], fields: list[models.Field[Any, Any]]) -> list[Any]:
    """The rows' values as the database takes them. A string or None in a plain text column,
    an int or None in a plain integer column or a key, a bool or None in a boolean column
    goes as it is (Django's preparation returns these unchanged); everything else is
    prepared by its field, ``pre_save`` first, as ``bulk_create`` does."""
    plain = _plain_types(tuple(fields))
    params = []
    for row in rows:
        for field, kind in zip(fields, plain, strict=True):
            value = getattr(row, field.attname)
            if kind is not None and (value is None or type(value) is kind):
                params.append(value)
            else:
                params.append(field.get_db_prep_save(field.pre_save(row, True), connection))
    return params


_PLAIN_FIELDS: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.EmailField: str,
    models.SlugField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.BigAutoField: int,
    models.AutoField: int,
    models.BooleanField: bool,
}


@cache
def _plain_types(fields: tuple[models.Field[Any, Any], ...]) -> list[type | None]:
    """Per field, the type whose values go unprepared; None where every value is prepared (a
    date, a decimal, a JSON document, a field of another class). A key takes its target's."""
    kinds: list[type | None] = []
    for field in fields:
        is_key = type(field) in (models.ForeignKey, models.OneToOneField)
        target = field.target_field if is_key else field  # type: ignore[attr-defined]
        kinds.append(_PLAIN_FIELDS.get(type(target)))
    return kinds


def _mark_saved(row: models.Model, pk: Any) -> None:
    row.pk = pk
    row._state.adding = False
    row._state.db = connection.alias


def _insert_in_savepoint(row: models.Model) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's work intact
            row.save(force_insert=True)
    except IntegrityError:
        return False
    return True
