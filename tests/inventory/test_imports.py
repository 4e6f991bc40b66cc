"""Stock levels from CSV, with a dry run."""

from __future__ import annotations

import pytest

from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.services.imports import StockImportRejected, stock_import_csv
from oms.common.errors import InvalidInput
from tests.factories import SYSTEM, ProductFactory, stock_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def bins() -> None:
    stock_up("TSHIRT-RED-M", 10, location="A-01-1")
    stock_up("CAP-BLACK", 4, location="A-01-2")
    ProductFactory(sku="MUG-LOGO")


def _levels() -> list[tuple[str, str, int]]:
    return list(StockLevel.objects.order_by("pk").values_list("product__sku", "location__code", "on_hand"))


CSV = "sku,location,on_hand\nTSHIRT-RED-M,A-01-1,12\nCAP-BLACK,A-01-2,4\nMUG-LOGO,A-01-2,3\n"


def test_a_dry_run_reports_every_change_and_changes_nothing(bins) -> None:
    before = (_levels(), StockMovement.objects.count())

    report = stock_import_csv(actor=SYSTEM, text=CSV, dry_run=True)

    assert [(r.line, r.action, r.current, r.on_hand) for r in report.rows] == [
        (2, "set", 10, 12),
        (3, "unchanged", 4, 4),
        (4, "set", 0, 3),
    ]
    assert (_levels(), StockMovement.objects.count()) == before


def test_an_import_sets_each_level_as_an_adjustment(bins) -> None:
    report = stock_import_csv(actor=SYSTEM, text=CSV, dry_run=False)

    assert report.applied
    assert ("TSHIRT-RED-M", "A-01-1", 12) in _levels() and ("MUG-LOGO", "A-01-2", 3) in _levels()
    imported = StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT, reason="import")
    assert sorted(imported.values_list("on_hand_delta", flat=True)) == [2, 3]


def test_rejected_rows_are_named_with_their_reason_and_nothing_is_imported(bins) -> None:
    text = (
        "sku,location,on_hand\n"
        "TSHIRT-RED-M,A-01-1,12\n"
        "NOPE,A-01-1,1\n"
        "CAP-BLACK,Z-9,1\n"
        "CAP-BLACK,A-01-2,-1\n"
        "CAP-BLACK,A-01-2,two\n"
        "TSHIRT-RED-M,A-01-1,3\n"
    )
    before = (_levels(), StockMovement.objects.count())

    with pytest.raises(StockImportRejected) as err:
        stock_import_csv(actor=SYSTEM, text=text, dry_run=False)

    reasons = {r.line: r.reason for r in err.value.report.rejected}
    assert reasons == {
        3: "No product with SKU NOPE.",
        4: "No location Z-9.",
        5: "on_hand cannot be negative.",
        6: "on_hand 'two' is not a whole number.",
        7: "TSHIRT-RED-M at A-01-1 is already set on line 2.",
    }
    assert (_levels(), StockMovement.objects.count()) == before


def test_a_file_without_the_required_columns_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        stock_import_csv(actor=SYSTEM, text="code,qty\nA,1\n", dry_run=True)

    assert err.value.code == "invalid_csv"
    assert "sku, location, on_hand" in err.value.message
