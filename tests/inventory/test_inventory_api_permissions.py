"""Who may call which inventory endpoint: every endpoint against every role.

The table is the specification, read off the grants in ``inventory/migrations/0005_stock_roles.py``;
``test_the_table_agrees_with_the_role_grants`` keeps the two from drifting apart.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from inventory.apis.reorder import LowStockAlertViewSet, ReorderRuleViewSet
from inventory.apis.stock import StockAdjustmentViewSet, StockLevelViewSet, StockMovementViewSet, StockReceiptViewSet
from inventory.apis.warehouses import LocationViewSet, WarehouseViewSet
from inventory.models import Location, ReorderRule, Warehouse
from tests.factories import stock_up
from tests.inventory.api_helpers import stock_state
from tests.permission_matrix import client_for_role, parse_matrix

pytestmark = pytest.mark.django_db

# A = allowed (a 2xx answer), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint            picker  packer  shipper  support  manager  integrator  no_role  anonymous
warehouse_list      A       A       A        A        A        A           F        U
warehouse_retrieve  A       A       A        A        A        A           F        U
warehouse_create    F       F       F        F        A        A           F        U
warehouse_patch     F       F       F        F        A        A           F        U
location_list       A       A       A        A        A        A           F        U
location_retrieve   A       A       A        A        A        A           F        U
location_create     F       F       F        F        A        A           F        U
location_patch      F       F       F        F        A        A           F        U
stock_list          A       A       A        A        A        A           F        U
stock_set           F       F       F        F        A        A           F        U
movement_list       A       A       A        A        A        A           F        U
receipt_create      F       F       A        F        A        A           F        U
adjustment_create   F       F       F        F        A        A           F        U
rule_list           F       F       F        F        A        A           F        U
rule_retrieve       F       F       F        F        A        A           F        U
rule_create         F       F       F        F        A        A           F        U
rule_patch          F       F       F        F        A        A           F        U
rule_delete         F       F       F        F        A        A           F        U
alert_list          A       A       A        A        A        A           F        U
"""


ROLES, EXPECTED = parse_matrix(MATRIX)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[ReorderRule], str]
    body: dict[str, Any] | None
    view: type
    action: str


SKU = "TSHIRT-RED-M"
ENDPOINTS: dict[str, Endpoint] = {
    "warehouse_list": Endpoint("get", lambda r: "/api/v1/warehouses/", None, WarehouseViewSet, "list"),
    "warehouse_retrieve": Endpoint("get", lambda r: "/api/v1/warehouses/MAIN/", None, WarehouseViewSet, "retrieve"),
    "warehouse_create": Endpoint(
        "post", lambda r: "/api/v1/warehouses/", {"code": "NEW", "name": "New"}, WarehouseViewSet, "create"
    ),
    "warehouse_patch": Endpoint(
        "patch", lambda r: "/api/v1/warehouses/MAIN/", {"name": "Renamed"}, WarehouseViewSet, "partial_update"
    ),
    "location_list": Endpoint("get", lambda r: "/api/v1/locations/", None, LocationViewSet, "list"),
    "location_retrieve": Endpoint("get", lambda r: "/api/v1/locations/A-01-1/", None, LocationViewSet, "retrieve"),
    "location_create": Endpoint(
        "post",
        lambda r: "/api/v1/locations/",
        {"warehouse": "MAIN", "code": "B-01", "pick_sequence": 5},
        LocationViewSet,
        "create",
    ),
    "location_patch": Endpoint(
        "patch", lambda r: "/api/v1/locations/A-01-1/", {"pick_sequence": 3}, LocationViewSet, "partial_update"
    ),
    "stock_list": Endpoint("get", lambda r: "/api/v1/stock/", None, StockLevelViewSet, "list"),
    "stock_set": Endpoint(
        "put",
        lambda r: f"/api/v1/stock/{SKU}/A-01-1/",
        {"on_hand": 900, "reason": "correction"},
        StockLevelViewSet,
        "set_level",
    ),
    "movement_list": Endpoint("get", lambda r: "/api/v1/stock/movements/", None, StockMovementViewSet, "list"),
    "receipt_create": Endpoint(
        "post",
        lambda r: "/api/v1/stock/receipts/",
        {"reference": "PO-1", "lines": [{"sku": SKU, "location": "A-01-1", "quantity": 5}]},
        StockReceiptViewSet,
        "create",
    ),
    "adjustment_create": Endpoint(
        "post",
        lambda r: "/api/v1/stock/adjustments/",
        {"sku": SKU, "location": "A-01-1", "delta": -1, "reason": "damaged"},
        StockAdjustmentViewSet,
        "create",
    ),
    "rule_list": Endpoint("get", lambda r: "/api/v1/reorder-rules/", None, ReorderRuleViewSet, "list"),
    "rule_retrieve": Endpoint("get", lambda r: f"/api/v1/reorder-rules/{r.pk}/", None, ReorderRuleViewSet, "retrieve"),
    "rule_create": Endpoint(
        "post",
        lambda r: "/api/v1/reorder-rules/",
        {"sku": SKU, "warehouse": "NORTH", "reorder_point": 5, "reorder_quantity": 10},
        ReorderRuleViewSet,
        "create",
    ),
    "rule_patch": Endpoint(
        "patch", lambda r: f"/api/v1/reorder-rules/{r.pk}/", {"reorder_point": 3}, ReorderRuleViewSet, "partial_update"
    ),
    "rule_delete": Endpoint("delete", lambda r: f"/api/v1/reorder-rules/{r.pk}/", None, ReorderRuleViewSet, "destroy"),
    "alert_list": Endpoint("get", lambda r: "/api/v1/stock/alerts/", None, LowStockAlertViewSet, "list"),
}
VIEWSETS = {spec.view for spec in ENDPOINTS.values()}


def db_state() -> dict[str, Any]:
    return {
        **stock_state(),
        "warehouses": list(Warehouse.objects.order_by("pk").values_list("code", "name", "is_active")),
        "locations": list(Location.objects.order_by("pk").values_list("code", "pick_sequence", "is_active")),
    }


@pytest.mark.parametrize(("endpoint", "role"), sorted(EXPECTED))
def test_each_role_may_call_exactly_the_inventory_endpoints_it_is_granted(
    endpoint: str, role: str, staff_client
) -> None:
    # Given stock in A-01-1 (MAIN), a second warehouse, and a reorder rule in MAIN
    stock_up(SKU, 1000)
    Warehouse.objects.create(code="NORTH", name="North")
    rule = ReorderRule.objects.create(
        product_id=Location.objects.get(code="A-01-1").stock_levels.get().product_id,
        warehouse=Warehouse.objects.get(code="MAIN"),
        reorder_point=10,
        reorder_quantity=100,
    )
    spec = ENDPOINTS[endpoint]
    client = client_for_role(role, staff_client)
    before = db_state()

    # When
    response = getattr(client, spec.method)(spec.path(rule), spec.body, format="json")

    # Then
    expected = EXPECTED[(endpoint, role)]
    if expected == "A":
        assert 200 <= response.status_code < 300, getattr(response, "data", response)
    elif expected == "F":
        assert response.status_code == 403, response.data
        assert response.data["code"] == "permission_denied"
        assert db_state() == before
    else:
        assert response.status_code == 401, response.data
        assert response.data["code"] == "not_authenticated"
        assert db_state() == before


def test_the_matrix_covers_every_action_of_every_inventory_endpoint() -> None:
    assert set(ROLES) == {"picker", "packer", "shipper", "support", "manager", "integrator", "no_role", "anonymous"}
    assert {(spec.view, spec.action) for spec in ENDPOINTS.values()} == {
        (view, action) for view in VIEWSETS for action in view.required_permissions
    }


def test_the_table_agrees_with_the_role_grants() -> None:
    # Given what the stock roles migration grants
    grants = importlib.import_module("inventory.migrations.0005_stock_roles").GRANTS

    # Then each staff role and the integrator is allowed exactly what its grants say
    for (endpoint, role), mark in EXPECTED.items():
        if role in ("no_role", "anonymous"):
            continue
        spec = ENDPOINTS[endpoint]
        app, codename = spec.view.required_permissions[spec.action].split(".")
        assert app == "inventory"
        assert (mark == "A") == (codename in grants[role]), (endpoint, role, codename)
