"""Writing generated rows: the tables and the columns written, ids drawn past each table's
sequence, and chunks written in one transaction each, with ``COPY`` on PostgreSQL
(``executemany`` elsewhere); sequences and carrier counters are moved past what was used
once at the end.

On PostgreSQL, outside a caller's transaction, two writer threads with a connection each
write chunks while the next is generated (the database's index upkeep is most of the
work, and it then runs on both cores), and their transactions skip the per-row
foreign-key triggers (``session_replication_role``) when the database user may: checking
millions of generated references one by one at commit costs more than writing them. The
unique indexes still refuse any duplicate. Inside a caller's transaction (the tests) chunks
are written in that transaction, with every check."""

from __future__ import annotations

import io
import queue
import threading
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, models, transaction

from fulfillment.models import AccuracyEvent, Package, PackageItem, PackingSession
from orders.models import Address, Order, OrderEvent, OrderLine, Payment, Refund
from shipping.models import Carrier, Label, Manifest, Shipment, TrackingEvent

NULL = r"\N"  # COPY's null; None for executemany

TABLES: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (Address, ("id", "name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone")),
    (
        Order,
        (
            "id", "created_at", "updated_at", "number", "channel", "external_reference", "status", "currency",
            "customer_email", "customer_name", "customer_phone", "shipping_address_id", "billing_address_id",
            "shipping_method_id", "shipping_price", "subtotal", "total", "amount_paid", "amount_refunded",
            "customer_note", "cancel_reason", "split_from_id", "paid_at", "picking_at", "packed_at", "shipped_at",
            "executed_at", "returned_at", "cancelled_at", "ship_by", "promised_delivery", "status_link_version",
        ),
    ),
    (OrderLine, ("id", "order_id", "position", "product_id", "sku", "name", "unit_price", "quantity")),
    (Payment, ("id", "order_id", "method", "amount", "currency", "reference", "status", "received_at")),
    (Refund, ("id", "order_id", "amount", "currency", "method", "reference", "reason", "created_at", "actor_label")),
    (
        OrderEvent,
        (
            "id", "order_id", "kind", "from_status", "to_status", "note", "data", "actor_kind", "actor_label",
            "actor_user_id", "actor_api_client_id", "created_at",
        ),
    ),
    (
        PackingSession,
        ("id", "created_at", "updated_at", "order_id", "station_id", "packer_id", "status", "completed_at"),
    ),
    (
        Package,
        (
            "id", "created_at", "updated_at", "order_id", "session_id", "sequence", "package_type_id", "status",
            "weight_grams", "expected_weight_grams", "weight_override_by", "weight_override_reason", "closed_at",
        ),
    ),
    (PackageItem, ("id", "package_id", "line_id", "product_id", "quantity")),
    (
        AccuracyEvent,
        (
            "id", "kind", "order_number", "pick_list_id", "package_id", "sku", "location", "expected", "actual",
            "note", "actor_label", "user_id", "supervisor_id", "created_at",
        ),
    ),
    (
        Manifest,
        (
            "id", "created_at", "updated_at", "number", "carrier_id", "pickup_date", "status", "opened_by",
            "closed_at", "closed_by",
        ),
    ),
    (
        Shipment,
        (
            "id", "created_at", "updated_at", "order_id", "service_id", "carrier_id", "status", "handed_over_at",
            "delivered_at", "tracking_status", "last_event_at", "stale_since",
        ),
    ),
    (
        Label,
        (
            "id", "shipment_id", "package_id", "status", "tracking_number", "carrier_reference", "format", "pdf",
            "zpl", "attempts", "last_error", "created_at", "issued_at", "print_count", "last_printed_at",
            "voided_at", "voided_by", "void_reason", "manifest_id", "scanned_out_at", "scanned_out_by",
            "tracking_status", "last_event_at",
        ),
    ),
    (
        TrackingEvent,
        (
            "id", "label_id", "dedup_key", "status", "carrier_status", "description", "location", "occurred_at",
            "received_at", "source", "raw",
        ),
    ),
]  # fmt: skip


def check_columns() -> None:
    """Every column of every table is written: a field added to a model fails here, at once,
    instead of as a NOT NULL error in the middle of a load."""
    for model, columns in TABLES:
        actual = {str(f.column) for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise RuntimeError(
                f"The demo loader writes {model._meta.db_table} with columns that differ from the model's: "
                f"missing {sorted(actual - set(columns))}, unknown {sorted(set(columns) - set(actual))}."
            )


@dataclass
class Ids:
    """The next free id of each table, starting past its sequence."""

    next: dict[type[models.Model], int] = field(default_factory=dict)

    @classmethod
    def start(cls) -> Ids:
        ids = cls()
        with connection.cursor() as cursor:
            for model, _columns in TABLES:
                table = model._meta.db_table
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
                else:
                    # A table name from the model, quoted: nothing from outside reaches the SQL.
                    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(table)}")  # noqa: S608
                ids.next[model] = int(cursor.fetchone()[0])
        return ids


Chunk = dict[type[models.Model], list[str]]  # tab-separated rows per table


def _write(chunk: Chunk, *, skip_triggers: bool) -> None:
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if skip_triggers:
            try:
                with transaction.atomic():
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except DatabaseError:  # not a superuser: the triggers check every row, slower
                pass
        for model, columns in TABLES:
            rows = chunk[model]
            if not rows:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            if postgres:
                cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", io.StringIO("\n".join(rows) + "\n"), 1 << 20)
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
                    [[None if v == NULL else v for v in row.split("\t")] for row in rows],
                )


def counters_advance(ids: Ids, serials: dict[int, tuple[int, int]]) -> None:
    """Moves each table's sequence past the ids drawn and each carrier's serial counter from
    where it stood to the last serial used, so what the services insert later never
    collides. Raises RuntimeError when a carrier's counter moved meanwhile (the unique index
    on tracking numbers has then refused any collision)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model, after in ids.next.items():
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, after - 1]
                    )
        for carrier_id, (before, last) in serials.items():
            if last != before and not Carrier.objects.filter(pk=carrier_id, last_serial=before).update(
                last_serial=last
            ):
                raise RuntimeError(f"Carrier {carrier_id} made labels while the demo history was loading.")


class ChunkWriter:
    """Writes chunks, each in one transaction: inside the caller's transaction (savepoints)
    when there is one or the database is not PostgreSQL, else by ``WRITERS`` threads with a
    connection each (see the module docstring). ``close`` waits for the last chunk and
    raises what a thread raised."""

    WRITERS = 2

    def __init__(self) -> None:
        threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self._queue: queue.Queue[Chunk | None] = queue.Queue(maxsize=self.WRITERS)
        self._errors: list[BaseException] = []
        self._threads = [
            threading.Thread(target=self._run, name=f"demo-history-writer-{n}", daemon=True)
            for n in range(self.WRITERS if threaded else 0)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                if not self._errors:
                    _write(chunk, skip_triggers=True)
        except BaseException as exc:  # handed to the generating thread by submit/close
            self._errors.append(exc)
            while self._queue.get() is not None:  # let the producer finish putting
                pass
        finally:
            connection.close()

    def submit(self, chunk: Chunk) -> None:
        if not self._threads:
            _write(chunk, skip_triggers=False)
            return
        if self._errors:
            self.close()
        self._queue.put(chunk)

    def close(self) -> None:
        for _thread in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._errors:
            raise self._errors[0]
