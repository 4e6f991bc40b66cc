"""Status filters on a row's own column never ask for SELECT DISTINCT: django-filter adds it to
a MultipleChoiceFilter by default, and over every column of the row it makes PostgreSQL sort
the page instead of reading it from an index (measured on the orders list at a million
orders, docs/performance.md, "Reads at a million orders")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.enums import AccuracyKind, PickListStatus
from orders.enums import OrderStatus
from returns.enums import ReturnStatus
from shipping.enums import LabelStatus, ShipmentStatus

pytestmark = pytest.mark.django_db

FILTERED_LISTS = [
    ("/api/v1/orders/", "status", OrderStatus.PAID),
    ("/api/v1/pick-lists/", "status", PickListStatus.choices[0][0]),
    ("/api/v1/shipments/", "status", ShipmentStatus.choices[0][0]),
    ("/api/v1/labels/", "status", LabelStatus.choices[0][0]),
    ("/api/v1/returns/", "status", ReturnStatus.choices[0][0]),
    ("/api/v1/accuracy-events/", "kind", AccuracyKind.choices[0][0]),
]


@pytest.mark.parametrize(("path", "name", "value"), FILTERED_LISTS)
def test_a_status_filter_reads_the_page_without_distinct(staff_client: Any, path: str, name: str, value: str) -> None:
    client = staff_client("manager")

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, {name: [value, value]})

    assert response.status_code == 200, response.content
    assert not [q["sql"] for q in ctx.captured_queries if "DISTINCT" in q["sql"].upper()]
