"""Schemathesis over every operation of the OpenAPI schema, in process.

For each operation it generates requests from the schema (valid ones and ones the schema
allows but the code may not expect) and sends each one as an integrator's API key and as a
manager's staff token. Every answer must be free of server errors and match what the schema
documents for its status code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from oms.common import roles
from oms.common.services import staff_token_issue
from oms.wsgi import application
from tests.factories import make_api_client, make_staff

pytestmark = pytest.mark.django_db


def served_schema() -> dict[str, Any]:
    """The schema /api/v1/schema/ serves, built from the views without a request or a database."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


# The fuzzing phase is bounded by max_examples below; the coverage phase (boundary values and
# every undocumented method of each path) is not, and would take minutes, so it is off here;
# test_undocumented_methods_are_refused_on_every_path below covers the methods.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(served_schema(), config=CONFIG)
schema.app = application

CHECKS = [not_a_server_error, response_schema_conformance]
# Small and fixed (derandomized), so the run stays near a minute and fails the same way every time.
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Requests go through the real WSGI handler, which closes the database connection after
    each one; keep it open, as Django's test client does, so every request sees the test's data
    and the test's transaction is rolled back at its end."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(in_test_transaction: None, db: Any, settings: Any) -> dict[str, str]:
    """An Authorization header for each caller the API serves: a shop's key and a manager's token."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the host schemathesis sends
    integrator = make_api_client("schema-fuzz")
    make_staff(roles.MANAGER, username="fuzz-manager")
    manager = staff_token_issue(username="fuzz-manager", password="pw", device="fuzz")
    return {"integrator": f"Bearer {integrator.raw_key}", "manager": f"Bearer {manager.raw_key}"}


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_without_server_error_and_as_documented(case: Any, credentials: dict[str, str]) -> None:
    for authorization in credentials.values():
        case.call_and_validate(headers={"Authorization": authorization}, checks=CHECKS)


def test_the_fuzzed_schema_is_the_one_the_api_serves_with_every_operation() -> None:
    served = APIClient().get("/api/v1/schema/", {"format": "json"}).json()

    assert served == schema.raw_schema
    documented = sum(1 for operations in served["paths"].values() for method in operations if method in METHODS)
    assert documented >= 100
    # Every one loads (an operation schemathesis cannot read would be skipped, not tested).
    loaded = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in loaded)
    assert len(loaded) == documented


METHODS = {"get", "post", "put", "patch", "delete"}


def test_undocumented_methods_are_refused_on_every_path(credentials: dict[str, str]) -> None:
    # A method the schema does not list for a path (OPTIONS included) is refused with a 4xx in
    # the API's error shape (405, or 403/404 when the permission or the lookup answers first),
    # never answered with a server error by some default of the framework.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=credentials["manager"])
    answers = {}
    for path, operations in schema.raw_schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", "0", path)
        for method in sorted((METHODS | {"options"}) - set(operations)):
            response = getattr(client, method)(url, {}, format="json")
            answers[f"{method.upper()} {url}"] = (response.status_code, response.json().get("code"))

    assert len(answers) >= 100
    # 429 too: throttled endpoints (a password's, a carrier's) count calls per client address
    # before DRF looks at the method, and other tests in the run share this address's budget.
    refused = {(405, "method_not_allowed"), (403, "permission_denied"), (404, "not_found"), (429, "throttled")}
    assert {call: answer for call, answer in answers.items() if answer not in refused} == {}
