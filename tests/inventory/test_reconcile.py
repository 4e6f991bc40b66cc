"""``manage.py stock_reconcile``: counters proven against the ledger and the allocations."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Reservation, StockLevel
from inventory.services.reconcile import (
    ALLOCATED_VS_ALLOCATIONS,
    ALLOCATED_VS_LEDGER,
    ON_HAND_VS_LEDGER,
    RESERVATION_VS_ALLOCATIONS,
    Drift,
    stock_reconcile,
)
from orders.enums import OrderStatus
from tests.factories import make_order, stock_up

ROOT = Path(__file__).resolve().parents[2]


def reconcile() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("stock_reconcile", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def raw(statement: str, params: list[object]) -> None:
    """A write that bypasses the services, as a bad migration or a hand-made fix would."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def stock_of(sku: str) -> StockLevel:
    return StockLevel.objects.get(product__sku=sku)


@pytest.fixture
def shop(db: object) -> None:
    """Two SKUs in two bins, orders holding some of them, one cancelled, one waiting for stock."""
    stock_up("MUG", 10)
    stock_up("CAP", 5, location="B-02-1")
    make_order(OrderStatus.UNHANDLED, skus=("MUG", "CAP"), stocked=False)
    make_order(OrderStatus.PAID, skus=("MUG",), stocked=False)
    make_order(OrderStatus.CANCELLED, skus=("CAP",), stocked=False)
    make_order(OrderStatus.PAID, skus=("TEE",), stocked=False, allow_backorder=True)


@pytest.mark.usefixtures("shop")
def test_a_consistent_database_reports_the_rows_checked_and_no_drift() -> None:
    output, error = reconcile()

    assert error is None
    assert output.splitlines() == [
        "Checked 2 stock levels and 4 reservations.",
        "No drift: every counter equals its ledger and allocations.",
    ]


@pytest.mark.usefixtures("shop")
def test_an_on_hand_changed_behind_the_ledgers_back_is_reported_and_fails_the_command() -> None:
    raw("UPDATE inventory_stocklevel SET on_hand = on_hand + 7 WHERE id = %s", [stock_of("MUG").pk])

    output, error = reconcile()

    assert error is not None and error.returncode == 1
    assert "1 stock counter(s) differ" in str(error)
    lines = output.splitlines()
    assert lines[0] == "Checked 2 stock levels and 4 reservations."
    assert lines[1].split() == ["sku", "location", "counter", "expected", "actual"]
    assert lines[2].split() == ["MUG", "A-01-1", "on_hand", "vs", "ledger", "10", "17"]
    assert len(lines) == 3


@pytest.mark.usefixtures("shop")
def test_an_allocated_counter_changed_by_hand_differs_from_both_ledger_and_allocations() -> None:
    raw("UPDATE inventory_stocklevel SET allocated = allocated - 1 WHERE id = %s", [stock_of("CAP").pk])

    report = stock_reconcile()

    assert report.drifts == [
        Drift("CAP", "B-02-1", ALLOCATED_VS_LEDGER, expected=1, actual=0),
        Drift("CAP", "B-02-1", ALLOCATED_VS_ALLOCATIONS, expected=1, actual=0),
    ]


@pytest.mark.usefixtures("shop")
def test_a_reservation_whose_count_disagrees_with_its_allocations_is_named_by_order_and_line() -> None:
    reservation = Reservation.objects.get(product__sku="TEE")  # the backorder: nothing allocated
    raw("UPDATE inventory_reservation SET quantity_allocated = 1 WHERE id = %s", [reservation.pk])

    output, error = reconcile()

    assert error is not None
    assert stock_reconcile().drifts == [
        Drift(
            "TEE",
            "",
            RESERVATION_VS_ALLOCATIONS,
            expected=0,
            actual=1,
            order_number=reservation.order_number,
            line_id=reservation.line_id,
        )
    ]
    assert f"TEE  order {reservation.order_number} line {reservation.line_id}" in output


@pytest.mark.usefixtures("shop")
def test_ledger_rows_for_a_bin_that_has_no_stock_row_are_drift() -> None:
    cap = stock_of("CAP")
    raw("DELETE FROM inventory_allocation WHERE stock_id = %s", [cap.pk])
    raw("DELETE FROM inventory_stocklevel WHERE id = %s", [cap.pk])

    drifts = stock_reconcile().drifts

    assert Drift("CAP", "B-02-1", ON_HAND_VS_LEDGER, expected=5, actual=0) in drifts
    assert Drift("CAP", "B-02-1", ALLOCATED_VS_LEDGER, expected=1, actual=0) in drifts


def test_reconciling_costs_the_same_few_queries_however_many_rows_there_are(db: object) -> None:
    stock_up("MUG", 3)
    make_order(OrderStatus.PAID, skus=("MUG",), stocked=False)
    with CaptureQueriesContext(connection) as small:
        stock_reconcile()
    for i in range(15):
        stock_up(f"SKU-{i}", 2, location=f"C-{i:02d}")
        make_order(OrderStatus.PAID, skus=(f"SKU-{i}",), stocked=False)

    with CaptureQueriesContext(connection) as large:
        report = stock_reconcile()

    assert report.ok and report.stock_levels_checked == 16
    assert len(large.captured_queries) == len(small.captured_queries) <= 5
    assert all(q["sql"].lstrip().upper().startswith(("SELECT", "WITH", "SAVEPOINT", "RELEASE")) for q in large)


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_on_drift() -> None:
    stock_up("MUG", 4)
    db = connection.settings_dict
    auth = f"{db['USER']}:{db['PASSWORD']}" if db["PASSWORD"] else db["USER"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings_test",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",  # the test database
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "stock_reconcile"], cwd=ROOT, env=env, capture_output=True, text=True
        )

    clean = run()
    raw("UPDATE inventory_stocklevel SET on_hand = 3", [])
    drifted = run()

    assert (clean.returncode, drifted.returncode) == (0, 1), (clean.stderr, drifted.stderr)
    assert "MUG" in drifted.stdout and "on_hand vs ledger" in drifted.stdout
    assert "differ from the ledger" in drifted.stderr
