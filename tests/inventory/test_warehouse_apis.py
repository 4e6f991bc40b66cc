"""The warehouses and locations (bins) REST API."""

from __future__ import annotations

from typing import Any

import pytest

from inventory.models import Location, Warehouse
from tests.inventory.api_helpers import bin_at, count_queries

pytestmark = pytest.mark.django_db

WAREHOUSES_URL = "/api/v1/warehouses/"
LOCATIONS_URL = "/api/v1/locations/"
WAREHOUSE_BODY = {"code": "MAIN", "name": "Main warehouse"}
LOCATION_BODY = {"warehouse": "MAIN", "code": "A-03-2", "pick_sequence": 320}


def warehouse_rows() -> list[tuple[Any, ...]]:
    return list(Warehouse.objects.order_by("pk").values_list("code", "name", "is_active", "updated_at"))


def location_rows() -> list[tuple[Any, ...]]:
    return list(
        Location.objects.order_by("pk").values_list("code", "warehouse_id", "pick_sequence", "is_active", "updated_at")
    )


# --- warehouses -----------------------------------------------------------------------------


def test_adding_a_warehouse_answers_201_with_it(integrator) -> None:
    # When
    response = integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")

    # Then
    assert response.status_code == 201, response.data
    assert response.data["code"] == "MAIN"
    assert response.data["name"] == "Main warehouse"
    assert response.data["is_active"] is True
    assert Warehouse.objects.get(code="MAIN").name == "Main warehouse"


def test_a_taken_warehouse_code_answers_400_duplicate(integrator) -> None:
    # Given
    integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")
    before = warehouse_rows()

    # When
    response = integrator.post(WAREHOUSES_URL, {"code": "MAIN", "name": "Other"}, format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "duplicate"
    assert set(response.data["fields"]) == {"code"}
    assert warehouse_rows() == before


@pytest.mark.parametrize("code", ["MA IN", "-MAIN", "MA/IN", "", "x" * 33])
def test_a_malformed_warehouse_code_answers_400(integrator, code: str) -> None:
    response = integrator.post(WAREHOUSES_URL, {"code": code, "name": "W"}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"code"}
    assert not Warehouse.objects.exists()


def test_a_warehouse_is_read_by_its_code(integrator) -> None:
    integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")

    response = integrator.get(f"{WAREHOUSES_URL}MAIN/")

    assert response.status_code == 200
    assert response.data["name"] == "Main warehouse"


def test_an_unknown_warehouse_answers_404(integrator) -> None:
    response = integrator.get(f"{WAREHOUSES_URL}NOPE/")

    assert response.status_code == 404
    assert response.data["code"] == "not_found"


def test_the_warehouse_list_is_by_code_and_filters_by_active_flag(integrator) -> None:
    # Given
    Warehouse.objects.create(code="B", name="B")
    Warehouse.objects.create(code="A", name="A")
    Warehouse.objects.create(code="C", name="C", is_active=False)

    # When
    everything = integrator.get(WAREHOUSES_URL)
    inactive = integrator.get(WAREHOUSES_URL, {"is_active": "false"})

    # Then
    assert [w["code"] for w in everything.data["results"]] == ["A", "B", "C"]
    assert [w["code"] for w in inactive.data["results"]] == ["C"]


def test_patch_renames_and_deactivates_a_warehouse(integrator) -> None:
    # Given
    integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")

    # When
    response = integrator.patch(f"{WAREHOUSES_URL}MAIN/", {"name": "Old hall", "is_active": False}, format="json")

    # Then
    assert response.status_code == 200, response.data
    warehouse = Warehouse.objects.get(code="MAIN")
    assert (warehouse.name, warehouse.is_active) == ("Old hall", False)


def test_patch_cannot_change_a_warehouse_code(integrator) -> None:
    integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")

    integrator.patch(f"{WAREHOUSES_URL}MAIN/", {"code": "OTHER"}, format="json")

    assert list(Warehouse.objects.values_list("code", flat=True)) == ["MAIN"]


def test_patch_with_a_blank_name_answers_400_and_changes_nothing(integrator) -> None:
    integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")
    before = warehouse_rows()

    response = integrator.patch(f"{WAREHOUSES_URL}MAIN/", {"name": ""}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"name"}
    assert warehouse_rows() == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_warehouse_cannot_be_replaced_or_deleted(integrator, method: str) -> None:
    integrator.post(WAREHOUSES_URL, WAREHOUSE_BODY, format="json")

    response = getattr(integrator, method)(f"{WAREHOUSES_URL}MAIN/", WAREHOUSE_BODY, format="json")

    assert response.status_code == 405
    assert response.data["code"] == "method_not_allowed"
    assert Warehouse.objects.filter(code="MAIN", name="Main warehouse").exists()


def test_listing_warehouses_costs_the_same_queries_for_2_and_20(integrator) -> None:
    for i in range(2):
        Warehouse.objects.create(code=f"W{i:02d}", name="W")
    integrator.get(WAREHOUSES_URL)  # the first request also stamps the key's last use
    with_2 = count_queries(integrator, WAREHOUSES_URL)

    for i in range(2, 20):
        Warehouse.objects.create(code=f"W{i:02d}", name="W")
    with_20 = count_queries(integrator, WAREHOUSES_URL)

    assert with_20 == with_2


# --- locations ------------------------------------------------------------------------------


@pytest.fixture
def main(db: Any) -> Warehouse:
    return Warehouse.objects.create(code="MAIN", name="Main warehouse")


def test_adding_a_location_answers_201_with_it(integrator, main) -> None:
    # When
    response = integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")

    # Then
    assert response.status_code == 201, response.data
    assert {k: response.data[k] for k in LOCATION_BODY} == LOCATION_BODY
    assert response.data["is_active"] is True
    location = Location.objects.get(code="A-03-2")
    assert (location.warehouse_id, location.pick_sequence) == (main.pk, 320)


def test_a_location_code_is_unique_across_warehouses(integrator, main) -> None:
    # Given the code is used in another warehouse
    bin_at("A-03-2", warehouse="NORTH")
    before = location_rows()

    # When
    response = integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "duplicate"
    assert set(response.data["fields"]) == {"code"}
    assert "NORTH" in response.data["fields"]["code"][0]
    assert location_rows() == before


def test_a_location_in_an_unknown_warehouse_answers_400_naming_the_field(integrator, main) -> None:
    response = integrator.post(LOCATIONS_URL, {**LOCATION_BODY, "warehouse": "NOPE"}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"warehouse"}
    assert "NOPE" in response.data["fields"]["warehouse"][0]
    assert not Location.objects.exists()


@pytest.mark.parametrize("pick_sequence", [-1, "first", 2**31])
def test_a_bad_pick_sequence_answers_400(integrator, main, pick_sequence: Any) -> None:
    response = integrator.post(LOCATIONS_URL, {**LOCATION_BODY, "pick_sequence": pick_sequence}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"pick_sequence"}
    assert not Location.objects.exists()


def test_a_location_is_read_by_its_code(integrator, main) -> None:
    integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")

    response = integrator.get(f"{LOCATIONS_URL}A-03-2/")

    assert response.status_code == 200
    assert response.data["warehouse"] == "MAIN"
    assert response.data["pick_sequence"] == 320


def test_an_unknown_location_answers_404(integrator) -> None:
    assert integrator.get(f"{LOCATIONS_URL}NOPE/").status_code == 404


def test_the_location_list_filters_by_warehouse(integrator) -> None:
    # Given bins in two warehouses
    bin_at("A-01", warehouse="MAIN")
    bin_at("B-01", warehouse="NORTH")
    bin_at("A-02", warehouse="MAIN")

    # When
    response = integrator.get(LOCATIONS_URL, {"warehouse": "MAIN"})

    # Then
    assert response.status_code == 200
    assert [(b["code"], b["warehouse"]) for b in response.data["results"]] == [("A-01", "MAIN"), ("A-02", "MAIN")]


def test_patch_changes_pick_sequence_and_active_flag(integrator, main) -> None:
    integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")

    response = integrator.patch(f"{LOCATIONS_URL}A-03-2/", {"pick_sequence": 5, "is_active": False}, format="json")

    assert response.status_code == 200, response.data
    location = Location.objects.get(code="A-03-2")
    assert (location.pick_sequence, location.is_active) == (5, False)


def test_patch_cannot_move_a_location_to_another_warehouse(integrator, main) -> None:
    # Given
    integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")
    Warehouse.objects.create(code="NORTH", name="North")

    # When
    integrator.patch(f"{LOCATIONS_URL}A-03-2/", {"warehouse": "NORTH", "code": "X"}, format="json")

    # Then
    location = Location.objects.get()
    assert (location.code, location.warehouse_id) == ("A-03-2", main.pk)


def test_patch_with_a_negative_pick_sequence_answers_400_and_changes_nothing(integrator, main) -> None:
    integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")
    before = location_rows()

    response = integrator.patch(f"{LOCATIONS_URL}A-03-2/", {"pick_sequence": -5}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"pick_sequence"}
    assert location_rows() == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_location_cannot_be_replaced_or_deleted(integrator, main, method: str) -> None:
    integrator.post(LOCATIONS_URL, LOCATION_BODY, format="json")

    response = getattr(integrator, method)(f"{LOCATIONS_URL}A-03-2/", LOCATION_BODY, format="json")

    assert response.status_code == 405
    assert Location.objects.filter(code="A-03-2").exists()


def test_listing_locations_costs_the_same_queries_for_2_and_20(integrator) -> None:
    for i in range(2):
        bin_at(f"A-{i:02d}", warehouse=f"W{i % 3}")
    integrator.get(LOCATIONS_URL)
    with_2 = count_queries(integrator, LOCATIONS_URL)

    for i in range(2, 20):
        bin_at(f"A-{i:02d}", warehouse=f"W{i % 3}")
    with_20 = count_queries(integrator, LOCATIONS_URL)

    assert with_20 == with_2
