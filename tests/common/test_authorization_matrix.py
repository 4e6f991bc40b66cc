"""Every address a user reaches, for every role and for anonymous, against docs/permissions.md.

The table in the docs is the specification and is read from there, so the docs and this test
cannot drift apart. ``test_every_url_has_a_row`` walks the URL resolver: a new endpoint or
staff page fails it until the table says who may use it.

"allowed" means only that the role gets past authentication and the permission check: a 404
for a made-up number, a 400 for an empty body or a 409 for a refused move all count. Write
calls run in the test's transaction, which is rolled back after each row.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from notifications.status_links import status_link_token
from oms.common import roles
from tests.factories import make_api_client, make_order, make_staff

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLES = ("anonymous", roles.PICKER, roles.PACKER, roles.SHIPPER, roles.SUPPORT, roles.MANAGER, roles.INTEGRATOR)
HEADER = ("Method", "Path", *ROLES)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REFUSALS = ("401", "403", "302")  # the cells other than "allowed"

# Addresses that are in the resolver but have no row, each with the reason.
IGNORED = (
    (re.compile(r"^/admin/"), "Django admin: is_staff plus model permissions, guarded by the admin site itself."),
    (re.compile(r"\.\{format\}/?$"), "DRF format-suffix twin of a routed address: same view, same permission."),
)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, str]


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]


def parse_table(text: str) -> list[Row]:
    """The rows of every markdown table in ``text`` whose header is exactly ``HEADER``."""
    rows: list[Row] = []
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if tuple(cells) == HEADER:
            in_table = True
            continue
        if not in_table or set(line) <= set("|-: "):
            continue
        method, path, *marks = cells
        assert method in METHODS, f"Unknown method {method!r} in docs/permissions.md: {line}"
        assert len(marks) == len(ROLES), f"Expected {len(ROLES)} role columns in docs/permissions.md: {line}"
        for mark in marks:
            assert mark == "allowed" or mark in REFUSALS, f"Unknown cell {mark!r} in docs/permissions.md: {line}"
        rows.append(Row(method, path, dict(zip(ROLES, marks, strict=True))))
    return rows


ROWS = parse_table(DOC.read_text())


def _pattern_text(pattern: URLPattern | URLResolver) -> str:
    """The address pattern in the table's spelling: ``orders/{number}/``."""
    text = str(pattern.pattern)
    text = re.sub(r"\(\?P<(\w+)>[^()]*\)", r"{\1}", text)  # the router's (?P<number>[^/]+)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)  # path("orders/<str:number>/")
    return text.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")


def _view_methods(pattern: URLPattern) -> set[str] | None:
    """The methods a DRF view serves, or None for a function view (not knowable from outside)."""
    actions = getattr(pattern.callback, "actions", None)
    if actions:  # a routed viewset; DRF adds HEAD to every GET, which needs no row of its own
        return {method.upper() for method in actions} & set(METHODS)
    view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
    if view_class is None:
        return None
    served = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    return served & set(METHODS)


def walk(resolvers: list[URLPattern | URLResolver], prefix: str = "/") -> Iterator[tuple[str, set[str] | None]]:
    for pattern in resolvers:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + _pattern_text(pattern))
        else:
            yield prefix + _pattern_text(pattern), _view_methods(pattern)


def _ignored(path: str) -> bool:
    return any(rule.search(path) for rule, _reason in IGNORED)


def test_the_table_has_rows_for_every_role_column() -> None:
    assert len(ROWS) > 100
    assert len({(row.method, row.path) for row in ROWS}) == len(ROWS), "A (method, path) appears twice."


@pytest.mark.django_db
def test_every_url_has_a_row(world: World) -> None:
    in_table: dict[str, set[str]] = {}
    for row in ROWS:
        in_table.setdefault(row.path, set()).add(row.method)
    missing = []
    for path, methods in walk(get_resolver().url_patterns):
        if _ignored(path):
            continue
        if methods is None:
            # A function view declares its methods only in require_GET/require_POST, which
            # answer 405 before anything else: ask it.
            client = world.clients["anonymous"]
            methods = {m for m in ("GET", "POST") if call(client, m, world.url(path)).status_code != 405}
        if methods - in_table.get(path, set()):
            missing.append(f"{', '.join(sorted(methods - in_table.get(path, set())))} {path}")
    assert not missing, "Add these to docs/permissions.md:\n" + "\n".join(missing)


def test_every_row_is_a_url() -> None:
    served = {path for path, _methods in walk(get_resolver().url_patterns)}
    assert not [row.path for row in ROWS if row.path not in served]


@dataclass(frozen=True)
class World:
    clients: dict[str, APIClient]
    values: dict[str, str]
    by_segment: dict[tuple[str, str], str]

    def url(self, path: str) -> str:
        """``path`` with each ``{name}`` filled with a real object where one exists."""
        parts = path.split("/")
        for i, part in enumerate(parts):
            for name in re.findall(r"\{(\w+)\}", part):
                value = self.by_segment.get((parts[i - 1], name), self.values.get(name))
                assert value is not None, f"No value for {{{name}}} in {path}"
                part = part.replace(f"{{{name}}}", value)
            parts[i] = part
        return "/".join(parts)


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """One order, one user per role and their signed-in clients for the whole module, in a
    transaction rolled back at the end; each test's own transaction nests inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        order = make_order()
        clients: dict[str, APIClient] = {"anonymous": APIClient()}
        for role in roles.STAFF_ROLES:
            clients[role] = APIClient()
            clients[role].force_login(make_staff(role))
        clients[roles.INTEGRATOR] = APIClient()
        clients[roles.INTEGRATOR].credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_client('matrix').raw_key}")
        missing = "999999"
        values = {
            "number": order.number,
            "order_number": order.number,
            "sku": order.lines.get().sku,
            "location": "A-01-1",
            "code": "MAIN",
            "token": status_link_token(order),
            "rma": "RMA-999999",
            "kind": "order_received",
            "stage": "awaiting_payment",
            "table": "orders-per-day",
            "reference": "CC-999999",
            "event_id": str(uuid.UUID(int=0)),
            **dict.fromkeys(("id", "pk", "label_id", "incident_id", "job_id", "task_id", "sequence"), missing),
        }
        by_segment = {
            ("pick-lists", "number"): "PL-999999",
            ("picking", "number"): "PL-999999",
            ("manifests", "number"): "MF-999999",
            ("handover", "number"): "MF-999999",
            ("returns", "number"): "RMA-999999",
            ("locations", "code"): "A-01-1",
            ("package-types", "code"): "BOX-NONE",
            ("carriers", "code"): "none",
        }
        yield World(clients, values, by_segment)
        transaction.set_rollback(True)


def call(client: APIClient, method: str, url: str) -> Any:
    """One request; the client keeps its session cookie, which a log-out would end."""
    cookies = copy.deepcopy(client.cookies)
    try:
        if url.startswith("/api/"):
            return client.generic(method, url, "{}" if method != "GET" else "", content_type="application/json")
        return client.generic(method, url, "", content_type="application/x-www-form-urlencoded")
    finally:
        client.cookies = cookies


def outcome(response: Any) -> str:
    """The table's word for an answer: a refusal's status, or "allowed"."""
    # login_required sends the visitor to the log-in with ?next=; a log-out lands there without.
    login = resolve_url(settings.LOGIN_URL) + "?next="
    if response.status_code == 302 and response["Location"].startswith(login):
        return "302"
    if response.status_code in (401, 403):
        return str(response.status_code)
    return "allowed"


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[f"{row.method} {row.path}" for row in ROWS])
def test_each_role_gets_what_the_table_says(row: Row, world: World) -> None:
    url = world.url(row.path)
    got = {}
    for role in ROLES:
        response = call(world.clients[role], row.method, url)
        assert response.status_code not in (405, 500), f"{row.method} {url} as {role}: {response.status_code}"
        got[role] = outcome(response)
    assert got == row.expected
