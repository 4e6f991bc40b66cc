"""Who may call which endpoint: every endpoint against every role.

The table below is the specification. It is read off the grants in
``orders/migrations/0002_roles.py`` and ``inventory/migrations/0002_roles.py``;
``test_the_table_agrees_with_the_role_grants`` keeps the two from drifting apart.
``start-picking``, ``abort-picking`` and ``pack`` are served by fulfillment (ADR 0005) with the
orders permissions they always had; the fulfillment endpoints have their own table in
``tests/fulfillment/test_api_permissions.py``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from fulfillment.apis.order_actions import OrderWarehouseActionViewSet
from inventory.apis.products import ProductViewSet
from inventory.models import Product
from orders.apis import OrderViewSet
from orders.enums import OrderStatus as S
from orders.models import Order, OrderEvent, OrderLine, Payment
from tests.factories import make_order, order_payload
from tests.fulfillment.helpers import packed_at_station
from tests.permission_matrix import client_for_role, parse_matrix

pytestmark = pytest.mark.django_db

# A = allowed (any answer but 401/403), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint            picker  packer  shipper  support  manager  integrator  no_role  anonymous
order_list          A       A       A        A        A        A           F        U
order_detail        A       A       A        A        A        A           F        U
order_create        F       F       F        A        A        A           F        U
payments            F       F       F        A        A        A           F        U
cancel              F       F       F        A        A        A           F        U
start_picking       A       F       F        F        A        A           F        U
abort_picking       A       F       F        F        A        A           F        U
pack                F       A       F        F        A        A           F        U
ship                F       F       A        F        A        A           F        U
execute             F       F       A        F        A        A           F        U
return              F       F       F        A        A        A           F        U
split               F       F       F        A        A        A           F        U
product_list        A       A       A        A        A        A           F        U
product_create      F       F       F        F        A        A           F        U
product_retrieve    A       A       A        A        A        A           F        U
product_patch       F       F       F        F        A        A           F        U
"""


ROLES, EXPECTED = parse_matrix(MATRIX)
CASES = sorted(EXPECTED)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[Order], str]
    body: Callable[[Order], dict[str, Any] | None]
    status: str = S.UNHANDLED  # the order status in which the call would succeed
    # The viewset and action naming the permission it needs, to compare with the grants.
    view: type = OrderViewSet
    action: str = ""
    make: Callable[[], Order] | None = None  # builds the order when a status alone is not enough


def _order_action(
    action: str,
    status: str,
    body: Callable[[Order], dict[str, Any]] | None = None,
    view: type = OrderViewSet,
    make: Callable[[], Order] | None = None,
) -> Endpoint:
    return Endpoint(
        "post",
        lambda o: f"/api/v1/orders/{o.number}/{action}/",
        body or (lambda o: {}),
        status,
        view,
        {"return": "mark_returned"}.get(action, action.replace("-", "_")),
        make,
    )


ENDPOINTS: dict[str, Endpoint] = {
    "order_list": Endpoint("get", lambda o: "/api/v1/orders/", lambda o: None, action="list"),
    "order_detail": Endpoint("get", lambda o: f"/api/v1/orders/{o.number}/", lambda o: None, action="retrieve"),
    "order_create": Endpoint("post", lambda o: "/api/v1/orders/", lambda o: order_payload(), action="create"),
    "payments": _order_action(
        "payments", S.UNHANDLED, lambda o: {"amount": str(o.total), "method": "card", "reference": "perm-1"}
    ),
    "cancel": _order_action("cancel", S.UNHANDLED, lambda o: {"reason": "customer asked"}),
    "start_picking": _order_action("start-picking", S.PAID, view=OrderWarehouseActionViewSet),
    "abort_picking": _order_action("abort-picking", S.PICKING, view=OrderWarehouseActionViewSet),
    # Packing completes only for an order picked and packed at a station.
    "pack": _order_action(
        "pack", S.PICKING, view=OrderWarehouseActionViewSet, make=lambda: packed_at_station(make_order(S.PAID))
    ),
    "ship": _order_action("ship", S.PACKED),
    "execute": _order_action("execute", S.SHIPPED),
    "return": _order_action("return", S.EXECUTED),
    # A paid order with one line in stock and one waiting: the case a split is for.
    "split": Endpoint(
        "post",
        lambda o: f"/api/v1/orders/{o.number}/split/",
        lambda o: {},
        S.PAID,
        OrderViewSet,
        "split",
        make=lambda: make_order(S.PAID, skus=("TSHIRT-RED-M", "WAITING-1"), stocked=False, allow_backorder=True),
    ),
    "product_list": Endpoint("get", lambda o: "/api/v1/products/", lambda o: None, view=ProductViewSet, action="list"),
    "product_create": Endpoint(
        "post",
        lambda o: "/api/v1/products/",
        lambda o: {"sku": "NEW-1", "name": "New", "price": "1.00"},
        view=ProductViewSet,
        action="create",
    ),
    "product_retrieve": Endpoint(
        "get", lambda o: "/api/v1/products/TSHIRT-RED-M/", lambda o: None, view=ProductViewSet, action="retrieve"
    ),
    "product_patch": Endpoint(
        "patch",
        lambda o: "/api/v1/products/TSHIRT-RED-M/",
        lambda o: {"price": "1.00"},
        view=ProductViewSet,
        action="partial_update",
    ),
}


def db_state() -> dict[str, Any]:
    """Everything any of these endpoints could write."""
    return {
        "orders": list(Order.objects.order_by("pk").values_list("number", "status", "updated_at", "amount_paid")),
        "events": OrderEvent.objects.count(),
        "lines": list(OrderLine.objects.order_by("pk").values_list("order_id", "quantity")),
        "payments": Payment.objects.count(),
        "products": list(Product.objects.order_by("pk").values_list("sku", "name", "price", "updated_at")),
    }


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_each_role_may_call_exactly_the_endpoints_it_is_granted(
    endpoint: str, role: str, staff_client, product, shipping_method
) -> None:
    # Given an order in the status where the call would succeed, and a caller with the role
    spec = ENDPOINTS[endpoint]
    order = spec.make() if spec.make else make_order(spec.status)
    client = client_for_role(role, staff_client)
    before = db_state()

    # When
    response = getattr(client, spec.method)(spec.path(order), spec.body(order), format="json")

    # Then
    expected = EXPECTED[(endpoint, role)]
    if expected == "A":
        assert response.status_code not in (401, 403), response.data
        assert 200 <= response.status_code < 300, response.data  # set up so the call succeeds
    elif expected == "F":
        assert response.status_code == 403, response.data
        assert response.data["code"] == "permission_denied"
        assert db_state() == before
    else:
        assert response.status_code == 401, response.data
        assert response.data["code"] == "not_authenticated"
        assert response["WWW-Authenticate"]
        assert db_state() == before


def test_the_matrix_covers_every_endpoint_and_role() -> None:
    assert {endpoint for endpoint, _ in EXPECTED} == set(ENDPOINTS)
    assert set(ROLES) == {"picker", "packer", "shipper", "support", "manager", "integrator", "no_role", "anonymous"}
    order_views = (OrderViewSet, OrderWarehouseActionViewSet)
    declared = {(view, action) for view in (*order_views, ProductViewSet) for action in view.required_permissions}
    assert declared == {(spec.view, spec.action) for spec in ENDPOINTS.values()}
    assert not set(OrderViewSet.required_permissions) & set(OrderWarehouseActionViewSet.required_permissions)


def test_the_table_agrees_with_the_role_grants() -> None:
    # Given what the data migrations grant to each role
    grants: dict[str, set[str]] = {}
    for app in ("orders", "inventory"):
        for name in ("0002_roles", "0004_split_roles") if app == "orders" else ("0002_roles",):
            migration = importlib.import_module(f"{app}.migrations.{name}")
            for role, codenames in migration.GRANTS.items():
                grants.setdefault(role, set()).update(f"{app}.{codename}" for codename in codenames)

    # Then each staff role and the integrator is allowed exactly what its grants say
    for (endpoint, role), mark in EXPECTED.items():
        if role in ("no_role", "anonymous"):
            continue
        spec = ENDPOINTS[endpoint]
        needed = spec.view.required_permissions[spec.action]
        assert (mark == "A") == (needed in grants[role]), (endpoint, role, needed)


def test_a_forbidden_payment_records_no_money(staff_client) -> None:
    # Given a packer, who may not record payments
    order = make_order(S.UNHANDLED)

    # When
    response = staff_client("packer").post(
        f"/api/v1/orders/{order.number}/payments/",
        {"amount": "34.89", "method": "card", "reference": "sneaky"},
        format="json",
    )

    # Then
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.amount_paid == Decimal("0.00")
    assert order.status == S.UNHANDLED
    assert not Payment.objects.exists()
