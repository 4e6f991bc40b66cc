"""Inserting rows that may exist already, for rows whose unique key names their cause (an
outbox message, an idempotency key): the first writer wins, later ones learn they were late,
and the caller's transaction stays usable either way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import IntegrityError, connection, models, transaction

M = TypeVar("M", bound=models.Model)


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
    meta = rows[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    by_name = {f.name: f for f in fields}
    unique_fields = [by_name[name] for name in unique]
    unique_columns = [f.column for f in unique_fields]
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([placeholders] * len(rows))} "
            f"ON CONFLICT ({', '.join(quote(str(c)) for c in unique_columns)}) DO NOTHING "
            f"RETURNING {quote(str(meta.pk.column))}, {', '.join(quote(str(c)) for c in unique_columns)}",
            params,
        )
        inserted = {tuple(found[1:]): found[0] for found in cursor.fetchall()}
    written = []
    for row in rows:
        pk = inserted.pop(tuple(getattr(row, f.attname) for f in unique_fields), None)
        if pk is not None:
            row.pk = pk
            row._state.adding = False
            row._state.db = connection.alias
            written.append(row)
    return written


def _insert_in_savepoint(row: models.Model) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's work intact
            row.save(force_insert=True)
    except IntegrityError:
        return False
    return True
