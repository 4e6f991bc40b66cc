"""Reading a model with the rows its foreign keys point to, in hand-written SQL.

For the few reads every request of a hot path makes (the API key look-up, the stock lock of
a placement): the ORM spent several times as much CPU compiling the joined select and
building the instances as the database spent answering it (docs/performance.md, "Where the
time goes"). ``Joined`` writes the column list and joins once, from the models, and turns
each row into the instances ``select_related`` would have given, with the values converted
as the ORM converts them; the caller writes the rest of the statement (WHERE, ORDER BY, a
lock clause) with bound values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

from django.db import connection, models


class Joined:
    """``SELECT`` of ``model`` (aliased ``t0``) with the foreign keys ``related`` followed, as
    ``select_related(*related)`` would (``"location"``, ``"location__warehouse"``; each
    hop aliased ``t1``, ``t2``, ... in that order). Only foreign keys that cannot be null:
    every row has its related rows, so the joins are inner joins."""

    def __init__(self, model: type[models.Model], related: Sequence[str] = ()) -> None:
        self.model = model
        self.related = tuple(related)
        self._statements: dict[tuple[str, ...], str] = {}
        # (model, index of the model holding the key, the key) for t1, t2, ...
        self._hops: list[tuple[type[models.Model], int, models.ForeignKey[Any, Any]]] = []
        paths = {"": 0}
        for path in self.related:
            parent_path, _, name = path.rpartition("__")
            parent_index = paths[parent_path]
            parent = model if parent_index == 0 else self._hops[parent_index - 1][0]
            field = parent._meta.get_field(name)
            if not isinstance(field, models.ForeignKey) or field.null:
                raise ValueError(
                    f"Joined follows foreign keys that cannot be null; {parent.__name__}.{name} is not one."
                )
            self._hops.append((field.related_model, parent_index, field))  # type: ignore[arg-type]
            paths[path] = len(self._hops)

    @cached_property
    def _models(self) -> list[type[models.Model]]:
        return [self.model, *(hop[0] for hop in self._hops)]

    @cached_property
    def _names(self) -> list[list[str]]:
        return [[field.attname for field in model._meta.concrete_fields] for model in self._models]

    @cached_property
    def select(self) -> str:
        """``SELECT <every column> FROM <table> t0 JOIN ... t1 ON ...``, ready for a WHERE."""
        quote = connection.ops.quote_name
        columns = ", ".join(
            f"t{index}.{quote(str(field.column))}"
            for index, model in enumerate(self._models)
            for field in model._meta.concrete_fields
        )
        joins = "".join(
            f" JOIN {quote(model._meta.db_table)} t{index} ON t{index}.{quote(str(field.target_field.column))}"
            f" = t{parent}.{quote(str(field.column))}"
            for index, (model, parent, field) in enumerate(self._hops, start=1)
        )
        return f"SELECT {columns} FROM {quote(self.model._meta.db_table)} t0{joins}"  # noqa: S608  (names from the models)

    @cached_property
    def _converters(self) -> list[tuple[int, list[Any], Any]]:
        """(column index, converters, column) of the columns the backend converts after
        reading (a JSON document, a date on SQLite), as the ORM does."""
        found = []
        fields = [field for model in self._models for field in model._meta.concrete_fields]
        for index, field in enumerate(fields):
            column = field.cached_col
            converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if converters:
                found.append((index, converters, column))
        return found

    def first(self, **equals: Any) -> Any:
        """The instance whose fields equal the values (``key_prefix="ab12"``), or None; for
        look-ups by a unique field."""
        names = tuple(equals)
        statement = self._statements.get(names)
        if statement is None:
            statement = self._statements[names] = (
                self.select + " WHERE " + " AND ".join(f"{self._column(name)} = %s" for name in names)
            )
        rows = self.run(statement, list(equals.values()))
        return rows[0] if rows else None

    def filter_in(self, name: str, values: Iterable[Any]) -> list[Any]:
        """The instances whose field ``name`` holds one of ``values``, in no set order."""
        values = list(values)
        if not values:
            return []
        placeholders = ", ".join(["%s"] * len(values))
        return self.run(f"{self.select} WHERE {self._column(name)} IN ({placeholders})", values)

    def run(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """Runs a statement that starts with ``select`` and builds its rows."""
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [self.build(row) for row in cursor.fetchall()]

    def _column(self, name: str) -> str:
        meta = self.model._meta
        field = meta.pk if name == "pk" else meta.get_field(name)
        return f"t0.{connection.ops.quote_name(str(field.column))}"  # type: ignore[union-attr]

    def build(self, row: Sequence[Any]) -> Any:
        """The main instance of a row, with its related instances cached on it."""
        if self._converters:
            row = list(row)
            for index, converters, column in self._converters:
                for converter in converters:
                    row[index] = converter(row[index], column, connection)
        alias = connection.alias
        instances = []
        start = 0
        for model, names in zip(self._models, self._names, strict=True):
            instances.append(model.from_db(alias, names, row[start : start + len(names)]))
            start += len(names)
        for index, (_model, parent, field) in enumerate(self._hops, start=1):
            field.set_cached_value(instances[parent], instances[index])
            if field.one_to_one:  # select_related fills the reverse side of a one-to-one too
                field.remote_field.set_cached_value(instances[index], instances[parent])
        return instances[0]
