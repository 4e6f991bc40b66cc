"""Who may call which fulfillment endpoint: every endpoint against every role.

The table is the specification, read off the grants in ``fulfillment/migrations/0002_roles.py``;
``test_the_table_agrees_with_the_role_grants`` keeps the two from drifting apart. The order
actions fulfillment serves (start-picking, abort-picking, pack) are in the orders table,
``tests/common/test_permissions.py``. Whose pick list it is (``not_your_pick_list``) is the
services' check, tested in ``test_apis.py``; here each caller who may pick works on their own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from fulfillment.apis.accuracy import AccuracyEventViewSet
from fulfillment.apis.packing import PackageTypeViewSet, PackingViewSet
from fulfillment.apis.picking import PickListViewSet, ReadyToPickViewSet
from fulfillment.models import PickList
from fulfillment.services import packing, picking
from oms.common.actors import Actor
from orders.models import Order
from tests.factories import make_api_client, make_staff
from tests.fulfillment.helpers import (
    box,
    fulfillment_state,
    packer,
    paid_order,
    pick_whole_list,
    picker,
    stock,
)
from tests.permission_matrix import parse_matrix

pytestmark = pytest.mark.django_db

# A = allowed (a 2xx answer), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint             picker  packer  shipper  support  manager  integrator  no_role  anonymous
pick_list_list       A       A       A        A        A        A           F        U
pick_list_detail     A       A       A        A        A        A           F        U
pick_list_create     A       F       F        F        A        A           F        U
pick_list_start      A       F       F        F        A        A           F        U
pick_list_scan       A       F       F        F        A        A           F        U
pick_list_short      A       F       F        F        A        A           F        U
pick_list_assign     F       F       F        F        A        F           F        U
pick_list_cancel     A       F       F        F        A        A           F        U
ready_to_pick        A       A       A        A        A        A           F        U
packing_open         F       A       F        F        A        A           F        U
packing_detail       A       A       A        A        A        A           F        U
package_open         F       A       F        F        A        A           F        U
packing_scan         F       A       F        F        A        A           F        U
package_close        F       A       F        F        A        A           F        U
packing_complete     F       A       F        F        A        A           F        U
package_type_list    A       A       A        A        A        A           F        U
package_type_create  F       F       F        F        A        F           F        U
package_type_patch   F       F       F        F        A        F           F        U
accuracy_events      F       F       F        F        A        F           F        U
"""

ROLES, EXPECTED = parse_matrix(MATRIX)


def caller(role: str) -> tuple[APIClient, Any]:
    """A client acting as ``role`` and the user behind it (None when anonymous)."""
    client = APIClient()
    if role == "anonymous":
        return client, None
    if role == "integrator":
        created = make_api_client("perm-integrator")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
        return client, created.client.user
    user = make_staff(None if role == "no_role" else role)
    client.force_login(user)
    return client, user


# --- the set-ups: each gives the path and body of a call that succeeds for an allowed caller ---


def _owner(me: Any) -> Any:
    """The caller when they may pick (so the list is theirs), else another picker."""
    return me if me is not None and me.has_perm("fulfillment.pick") else picker()


def _assigned(me: Any) -> PickList:
    owner = _owner(me)
    return picking.pick_list_create(
        actor=Actor.for_user(owner), picker=owner, order_numbers=[paid_order({"TEE": 1}).number]
    )


def _started(me: Any) -> PickList:
    pick_list = _assigned(me)
    picking.pick_list_start(actor=Actor.for_user(pick_list.picker), number=pick_list.number)
    return PickList.objects.get(pk=pick_list.pk)


def _picked(me: Any) -> Order:
    pick_list = _started(None)
    pick_whole_list(pick_list.number, Actor.for_user(pick_list.picker))
    return pick_list.entries.get().order


def _open_at_station(me: Any, *, box_open: bool = False, verified: bool = False, weighed: bool = False) -> Order:
    order = _picked(me)
    actor = Actor.for_user(packer())
    packing.packing_open(actor=actor, code=order.number)
    if box_open or verified or weighed:
        packing.package_open(actor=actor, order_number=order.number, package_type="BOX-S")
    if verified or weighed:
        packing.pack_scan(actor=actor, order_number=order.number, code="TEE")
    if weighed:
        packing.package_close(actor=actor, order_number=order.number, sequence=1, weight_grams=350)
    return order


Setup = Callable[[Any], tuple[str, dict[str, Any] | None]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    setup: Setup
    view: type
    action: str


def _pick_list_call(action: str, body: Callable[[PickList], dict[str, Any]], *, started: bool = True) -> Setup:
    def setup(me: Any) -> tuple[str, dict[str, Any] | None]:
        pick_list = _started(me) if started else _assigned(me)
        return f"/api/v1/pick-lists/{pick_list.number}/{action}/", body(pick_list)

    return setup


def _packing_call(action: str, body: dict[str, Any] | None, **stage: bool) -> Setup:
    def setup(me: Any) -> tuple[str, dict[str, Any] | None]:
        order = _open_at_station(me, **stage)
        return f"/api/v1/packing/{order.number}/{action}", body

    return setup


def _short(me: Any) -> tuple[str, dict[str, Any] | None]:
    pick_list = _started(me)
    return f"/api/v1/pick-lists/{pick_list.number}/tasks/{pick_list.tasks.get().pk}/short/", {"found": 0}


ENDPOINTS: dict[str, Endpoint] = {
    "pick_list_list": Endpoint("get", lambda me: ("/api/v1/pick-lists/", None), PickListViewSet, "list"),
    "pick_list_detail": Endpoint(
        "get", lambda me: (f"/api/v1/pick-lists/{_started(me).number}/", None), PickListViewSet, "retrieve"
    ),
    "pick_list_create": Endpoint(
        "post",
        lambda me: ("/api/v1/pick-lists/", {"orders": [paid_order({"TEE": 1}).number]}),
        PickListViewSet,
        "create",
    ),
    "pick_list_start": Endpoint(
        "post", _pick_list_call("start", lambda pl: {}, started=False), PickListViewSet, "start"
    ),
    "pick_list_scan": Endpoint("post", _pick_list_call("scan", lambda pl: {"code": "TEE"}), PickListViewSet, "scan"),
    "pick_list_short": Endpoint("post", _short, PickListViewSet, "short"),
    "pick_list_assign": Endpoint(
        "post",
        _pick_list_call("assign", lambda pl: {"picker": picker().username}, started=False),
        PickListViewSet,
        "assign",
    ),
    "pick_list_cancel": Endpoint(
        "post", _pick_list_call("cancel", lambda pl: {"reason": "trolley broke"}), PickListViewSet, "cancel"
    ),
    "ready_to_pick": Endpoint("get", lambda me: ("/api/v1/ready-to-pick/", None), ReadyToPickViewSet, "list"),
    "packing_open": Endpoint(
        "post", lambda me: ("/api/v1/packing/", {"code": _picked(me).number}), PackingViewSet, "create"
    ),
    "packing_detail": Endpoint("get", _packing_call("", None), PackingViewSet, "retrieve"),
    "package_open": Endpoint("post", _packing_call("packages/", {"package_type": "BOX-S"}), PackingViewSet, "packages"),
    "packing_scan": Endpoint("post", _packing_call("scan/", {"code": "TEE"}, box_open=True), PackingViewSet, "scan"),
    "package_close": Endpoint(
        "post",
        _packing_call("packages/1/close/", {"weight_grams": 350}, verified=True),
        PackingViewSet,
        "close_package",
    ),
    "packing_complete": Endpoint("post", _packing_call("complete/", {}, weighed=True), PackingViewSet, "complete"),
    "package_type_list": Endpoint("get", lambda me: ("/api/v1/package-types/", None), PackageTypeViewSet, "list"),
    "package_type_create": Endpoint(
        "post",
        lambda me: (
            "/api/v1/package-types/",
            {"code": "BOX-L", "name": "Large", "length_mm": 600, "width_mm": 400, "height_mm": 300, "tare_grams": 500},
        ),
        PackageTypeViewSet,
        "create",
    ),
    "package_type_patch": Endpoint(
        "patch", lambda me: ("/api/v1/package-types/BOX-S/", {"tare_grams": 160}), PackageTypeViewSet, "partial_update"
    ),
    "accuracy_events": Endpoint("get", lambda me: ("/api/v1/accuracy-events/", None), AccuracyEventViewSet, "list"),
}

VIEWSETS = {spec.view for spec in ENDPOINTS.values()}


@pytest.mark.parametrize(("endpoint", "role"), sorted(EXPECTED))
def test_each_role_may_call_exactly_the_fulfillment_endpoints_it_is_granted(endpoint: str, role: str) -> None:
    # Given stock of a TEE of 200 g, a box of 150 g, a caller with the role, and what the call needs
    stock("TEE", 50, "A-01", 10, weight_grams=200, barcode="111")
    box("BOX-S", tare=150)
    client, me = caller(role)
    spec = ENDPOINTS[endpoint]
    path, body = spec.setup(me)
    before = fulfillment_state()

    # When
    response = getattr(client, spec.method)(path, body, format="json")

    # Then
    expected = EXPECTED[(endpoint, role)]
    if expected == "A":
        assert 200 <= response.status_code < 300, response.data
    elif expected == "F":
        assert response.status_code == 403, response.data
        assert response.data["code"] == "permission_denied"
        assert fulfillment_state() == before
    else:
        assert response.status_code == 401, response.data
        assert response.data["code"] == "not_authenticated"
        assert fulfillment_state() == before


def test_the_matrix_covers_every_action_of_every_fulfillment_endpoint() -> None:
    assert set(ROLES) == {"picker", "packer", "shipper", "support", "manager", "integrator", "no_role", "anonymous"}
    assert {endpoint for endpoint, _ in EXPECTED} == set(ENDPOINTS)
    assert {(spec.view, spec.action) for spec in ENDPOINTS.values()} == {
        (view, action) for view in VIEWSETS for action in view.required_permissions
    }


def test_the_table_agrees_with_the_role_grants() -> None:
    # Given what the fulfillment roles migrations grant, less what a later one took back
    grants = importlib.import_module("fulfillment.migrations.0002_roles").GRANTS
    taken = importlib.import_module("fulfillment.migrations.0004_accuracy_for_managers_only").TAKEN
    grants = {role: [c for c in codenames if c not in taken.get(role, [])] for role, codenames in grants.items()}

    # Then each staff role and the integrator is allowed exactly what its grants say
    for (endpoint, role), mark in EXPECTED.items():
        if role in ("no_role", "anonymous"):
            continue
        spec = ENDPOINTS[endpoint]
        app, codename = spec.view.required_permissions[spec.action].split(".")
        assert app == "fulfillment"
        assert (mark == "A") == (codename in grants[role]), (endpoint, role, codename)
