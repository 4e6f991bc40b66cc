"""The health check for load balancers, and the generated OpenAPI schema and its docs page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from oms.common import health
from oms.urls import router

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


# --- /healthz -------------------------------------------------------------------------------


def test_healthz_answers_200_when_database_and_broker_answer() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_needs_no_credentials_and_is_not_cached() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_answers_503_naming_the_database_when_it_fails(monkeypatch) -> None:
    # Given the database check fails
    def broken() -> str:
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "check_database", broken)

    # When
    response = Client().get("/healthz")

    # Then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable")
    assert "ConnectionError" in body["checks"]["database"]
    assert body["checks"]["broker"] == "ok"


def test_healthz_answers_503_naming_the_broker_when_it_fails(monkeypatch) -> None:
    def broken() -> str:
        raise TimeoutError("no answer")

    monkeypatch.setattr(health, "check_broker", broken)

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable: TimeoutError"}


def test_healthz_checks_the_database_alone_when_asked_so_a_balancer_keeps_a_server_whose_broker_is_down(
    monkeypatch,
) -> None:
    def broken() -> str:
        raise TimeoutError("no answer")

    monkeypatch.setattr(health, "check_broker", broken)

    response = Client().get("/healthz?check=database")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_refuses_a_check_it_does_not_have() -> None:
    response = Client().get("/healthz?check=database,cache")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_check"
    assert "cache" in response.json()["message"] and "database, broker" in response.json()["message"]


def test_healthz_refuses_post() -> None:
    assert Client().post("/healthz").status_code == 405


# --- the OpenAPI schema ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def router_paths() -> set[str]:
    """Every path the router serves, in OpenAPI form (``{number}``, ``{sku}``)."""
    paths = set()
    for prefix, viewset, _basename in router.registry:
        base = f"/api/v1/{prefix}/"
        detail = f"{base}{{{viewset.lookup_field}}}/"
        if any(hasattr(viewset, name) for name in ("list", "create")):
            paths.add(base)
        if any(hasattr(viewset, name) for name in ("retrieve", "update", "partial_update", "destroy")):
            paths.add(detail)
        for extra in viewset.get_extra_actions():
            paths.add(f"{detail}{extra.url_path}/" if extra.detail else f"{base}{extra.url_path}/")
    # A path parameter given as a regex group (``(?P<location>[^/]+)``) reads {location}.
    return {re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path) for path in paths}


def test_the_schema_is_valid_openapi_3(schema) -> None:
    assert str(schema["openapi"]).startswith("3.")
    validate_schema(schema)  # raises on any departure from the OpenAPI 3 JSON schema
    assert schema["info"]["title"] == "OMS API"


def test_the_schema_is_also_served_as_json() -> None:
    response = APIClient().get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_schema_has_every_path_the_router_serves(schema) -> None:
    expected = router_paths()

    assert len(expected) >= 13  # orders, an order, its nine actions, products, a product, ...
    assert expected <= set(schema["paths"]), sorted(expected - set(schema["paths"]))


def test_the_schema_has_every_action_endpoint(schema) -> None:
    actions = ["payments", "cancel", "start-picking", "abort-picking", "pack", "ship", "execute", "return"]

    for action in actions:
        assert "post" in schema["paths"][f"/api/v1/orders/{{number}}/{action}/"], action
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/orders/"])
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/products/"])
    assert {"get", "patch"} <= set(schema["paths"]["/api/v1/products/{sku}/"])


# The fulfillment API for handheld scanners and integrators, and what each refusal answers.
FULFILLMENT_OPERATIONS = {
    ("get", "/api/v1/pick-lists/"): [],
    ("post", "/api/v1/pick-lists/"): ["order_on_pick_list", "order_not_ready_to_pick", "nothing_to_pick"],
    ("get", "/api/v1/pick-lists/{number}/"): ["pick_list_not_found"],
    ("post", "/api/v1/pick-lists/{number}/start/"): ["not_your_pick_list", "pick_list_transition_not_allowed"],
    ("post", "/api/v1/pick-lists/{number}/scan/"): ["wrong_item", "not_your_pick_list", "task_not_open"],
    ("post", "/api/v1/pick-lists/{number}/tasks/{task_id}/short/"): ["not_your_pick_list", "task_not_open"],
    ("post", "/api/v1/pick-lists/{number}/assign/"): ["pick_list_transition_not_allowed"],
    ("post", "/api/v1/pick-lists/{number}/cancel/"): ["not_your_pick_list", "pick_list_transition_not_allowed"],
    ("get", "/api/v1/ready-to-pick/"): [],
    ("post", "/api/v1/packing/"): ["nothing_to_pack", "order_not_picked"],
    ("get", "/api/v1/packing/{order_number}/"): ["packing_not_found"],
    ("post", "/api/v1/packing/{order_number}/packages/"): ["package_not_open"],
    ("post", "/api/v1/packing/{order_number}/scan/"): ["not_in_order", "too_many_units", "no_open_package"],
    ("post", "/api/v1/packing/{order_number}/packages/{sequence}/close/"): [
        "weight_out_of_tolerance",
        "override_not_allowed",
        "package_empty",
    ],
    ("post", "/api/v1/packing/{order_number}/complete/"): ["packing_incomplete"],
    ("get", "/api/v1/package-types/"): [],
    ("post", "/api/v1/package-types/"): ["duplicate"],
    ("patch", "/api/v1/package-types/{code}/"): ["package_type_not_found"],
    ("get", "/api/v1/accuracy-events/"): [],
    ("post", "/api/v1/orders/{number}/start-picking/"): ["transition_not_allowed", "order_on_pick_list"],
    ("post", "/api/v1/orders/{number}/abort-picking/"): ["transition_not_allowed"],
    ("post", "/api/v1/orders/{number}/pack/"): ["transition_not_allowed", "packing_incomplete"],
}


def test_the_schema_documents_every_fulfillment_endpoint_and_its_error_codes(schema) -> None:
    for (method, path), codes in FULFILLMENT_OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["summary"] and operation["description"], (method, path)
        errors = " ".join(
            answer["description"] for status, answer in operation["responses"].items() if status.startswith("4")
        )
        for code in codes:
            assert f"`{code}`" in errors, (method, path, code)


def test_the_schema_builds_without_a_single_warning(tmp_path) -> None:
    # `manage.py spectacular --validate --fail-on-warn` raises CommandError on any warning
    # (an undocumented serializer, an untyped path parameter, an enum name collision) or on a
    # departure from OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["paths"]


def test_the_schema_documents_no_writable_status(schema) -> None:
    assert "put" not in schema["paths"]["/api/v1/orders/{number}/"]
    assert "patch" not in schema["paths"]["/api/v1/orders/{number}/"]
    request_schemas = [
        name
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Input") or name.endswith("Request")
    ]
    for name in request_schemas:
        assert "status" not in schema["components"]["schemas"][name].get("properties", {}), name


def test_every_operation_documents_401_and_403(schema) -> None:
    missing = [
        f"{method.upper()} {path}: {code}"
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
        if method in HTTP_METHODS
        for code in ("401", "403")
        if code not in operation["responses"] and (code, method, path) not in NEVER_FORBIDDEN
    ]

    assert not missing


# Operations anyone may call: signing in for a staff token, which takes a password instead,
# and a carrier's tracking webhook, which is authenticated by the signature of its body.
TRACKING_WEBHOOK = ("post", "/api/v1/carriers/{code}/tracking-events/")
PUBLIC_OPERATIONS = {("post", "/api/v1/auth/tokens/"), TRACKING_WEBHOOK}
# A signed webhook is either authentic (and allowed) or not (401): it has no 403.
NEVER_FORBIDDEN = {("403", *TRACKING_WEBHOOK)}


def test_every_operation_requires_the_api_key_or_a_session(schema) -> None:
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key created with `manage.py create_api_client NAME` or in the admin.",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in HTTP_METHODS and (method, path) not in PUBLIC_OPERATIONS:
                assert {"ApiKey": []} in operation["security"], f"{method} {path}"


def test_only_signing_in_needs_no_credentials(schema) -> None:
    public = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS and operation["security"] == [{}]
    }

    assert public == PUBLIC_OPERATIONS


def test_the_schema_needs_no_credentials() -> None:
    assert APIClient().get("/api/v1/schema/").status_code == 200


# --- the docs page --------------------------------------------------------------------------


def test_the_docs_page_answers_200() -> None:
    response = Client().get("/api/v1/docs/")

    assert response.status_code == 200
    assert "swagger" in response.content.decode().lower()


def test_the_docs_page_loads_only_local_assets() -> None:
    html = Client().get("/api/v1/docs/").content.decode()

    external = re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", html)
    assert not external, external
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets
    assert all(asset.startswith("/") for asset in assets), assets
    assert "<script>" not in html  # the start-up script comes from ?script, for the CSP
    script = Client().get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()
