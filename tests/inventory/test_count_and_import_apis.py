"""Cycle counts and CSV import over the API: blind for counters, variances for managers."""

from __future__ import annotations

import pytest

from inventory.models import CycleCount, StockLevel, StockMovement
from tests.factories import stock_up

pytestmark = pytest.mark.django_db

COUNTS = "/api/v1/counts/"
IMPORT = "/api/v1/stock/import/"


@pytest.fixture
def bin_a() -> None:
    stock_up("TSHIRT-RED-M", 10, location="A-01-1")


def _open_count(client) -> str:
    response = client.post(COUNTS, {"locations": ["A-01-1"], "note": "weekly"}, format="json")
    assert response.status_code == 201, response.data
    return response.data["reference"]


def test_a_picker_counts_blind_and_a_manager_approves_the_variance(bin_a, staff_client) -> None:
    manager, picker = staff_client("manager"), staff_client("picker")
    reference = _open_count(manager)

    entered = picker.post(
        f"{COUNTS}{reference}/entries/", {"location": "A-01-1", "sku": "TSHIRT-RED-M", "counted": 8}, format="json"
    )
    submitted = picker.post(f"{COUNTS}{reference}/submit/", {}, format="json")
    variances = manager.get(f"{COUNTS}{reference}/variances/")
    approved = manager.post(f"{COUNTS}{reference}/approve/", {}, format="json")

    assert entered.status_code == 200
    assert "expected" not in str(entered.data) and "variance" not in str(entered.data)
    assert submitted.data["status"] == "submitted"
    assert [(v["expected"], v["counted"], v["variance"]) for v in variances.data] == [(10, 8, -2)]
    assert approved.status_code == 200 and approved.data["status"] == "approved"
    assert StockLevel.objects.get(location__code="A-01-1").on_hand == 8


def test_a_picker_may_not_see_variances_or_approve(bin_a, staff_client) -> None:
    reference = _open_count(staff_client("manager"))
    picker = staff_client("picker")

    assert picker.get(f"{COUNTS}{reference}/variances/").status_code == 403
    assert picker.post(f"{COUNTS}{reference}/approve/", {}, format="json").status_code == 403
    assert CycleCount.objects.get(reference=reference).status == "open"


def test_a_count_of_unknown_bins_is_refused_naming_them(staff_client) -> None:
    response = staff_client("manager").post(COUNTS, {"locations": ["NOPE-1"]}, format="json")

    assert response.status_code == 400
    assert response.data["fields"] == {"locations.0": ["No location NOPE-1."]}
    assert not CycleCount.objects.exists()


def test_a_csv_dry_run_answers_the_report(bin_a, integrator) -> None:
    body = "sku,location,on_hand\nTSHIRT-RED-M,A-01-1,12\nNOPE,A-01-1,1\n"

    response = integrator.post(f"{IMPORT}?dry_run=true", body, content_type="text/csv")

    assert response.status_code == 200, response.data
    assert response.data["summary"] == {"set": 1, "unchanged": 0, "rejected": 1}
    assert [r["action"] for r in response.data["rows"]] == ["set", "rejected"]
    assert StockLevel.objects.get(location__code="A-01-1").on_hand == 10


def test_a_csv_import_with_a_rejected_row_answers_400_and_changes_nothing(bin_a, integrator) -> None:
    movements = StockMovement.objects.count()
    body = "sku,location,on_hand\nTSHIRT-RED-M,A-01-1,12\nNOPE,A-01-1,1\n"

    response = integrator.post(IMPORT, body, content_type="text/csv")

    assert response.status_code == 400
    assert response.data["code"] == "import_rejected"
    assert response.data["fields"] == {"line 3": ["No product with SKU NOPE."]}
    assert StockMovement.objects.count() == movements


def test_a_csv_import_applies_the_levels(bin_a, integrator) -> None:
    response = integrator.post(IMPORT, "sku,location,on_hand\nTSHIRT-RED-M,A-01-1,12\n", content_type="text/csv")

    assert response.status_code == 200 and response.data["applied"] is True
    assert StockLevel.objects.get(location__code="A-01-1").on_hand == 12


def test_a_csv_import_needs_the_adjust_permission(bin_a, staff_client) -> None:
    response = staff_client("picker").post(IMPORT, "sku,location,on_hand\n", content_type="text/csv")

    assert response.status_code == 403
