"""One-statement inserts (oms.common.inserts) store what bulk_create would store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inventory.models import Allocation, Reservation, StockLevel
from oms.common.inserts import insert_rows
from orders.models import Order, OrderEvent
from tests.factories import make_order, stock_up

pytestmark = pytest.mark.django_db

SKIP = {"id", "created_at"}


def _stored(model: Any, pks: list[int]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if k not in SKIP}
        for row in model.objects.filter(pk__in=pks).order_by("pk").values()
    ]


def _event(order: Order, **extra: Any) -> OrderEvent:
    fields: dict[str, Any] = {
        "order": order,
        "kind": "note",
        "note": gettext_lazy("Customer called"),  # a lazy string is prepared, not sent as it is
        "data": {"total": "12.50", "lines": [1, 2], "none": None},
        "actor_kind": "system",
        "actor_label": "tests",
        "actor_user_id": None,
    }
    return OrderEvent(**(fields | extra))


def test_rows_are_stored_as_bulk_create_stores_them_and_get_their_keys_in_order() -> None:
    order = make_order()
    ours = insert_rows([_event(order), _event(order, data=[], note="")])
    theirs = OrderEvent.objects.bulk_create([_event(order), _event(order, data=[], note="")])

    assert [e.pk for e in ours] == sorted(e.pk for e in ours)
    assert all(not e._state.adding and e.created_at is not None for e in ours)
    assert _stored(OrderEvent, [e.pk for e in ours]) == _stored(OrderEvent, [e.pk for e in theirs])
    stored = OrderEvent.objects.get(pk=ours[0].pk)
    assert stored.note == "Customer called" and stored.data["lines"] == [1, 2]
    assert timezone.now() - stored.created_at < timedelta(minutes=1)  # auto_now_add ran


def test_a_row_built_before_its_parent_was_saved_takes_the_parents_key() -> None:
    order = make_order()
    stock = StockLevel.objects.get()
    reservation = Reservation(order_number=order.number, line_id=10**9, product_id=stock.product_id, quantity=1)
    allocation = Allocation(reservation=reservation, stock=stock, quantity=1)  # reservation has no key yet

    insert_rows([reservation])
    insert_rows([allocation])

    assert Allocation.objects.get(pk=allocation.pk).reservation_id == reservation.pk


def test_rows_with_their_keys_drawn_beforehand_keep_them_and_mixed_rows_are_refused() -> None:
    stock_up("MUG", 1)
    order = make_order()
    events = [_event(order, id=order.events.order_by("-id").values_list("id", flat=True)[0] + 1000)]
    insert_rows(events)
    assert OrderEvent.objects.filter(pk=events[0].pk, note="Customer called").exists()

    with pytest.raises(ValueError, match="every row"):
        insert_rows([_event(order), _event(order, id=events[0].pk + 1)])
    assert insert_rows([]) == []


def test_values_of_another_type_than_the_columns_are_prepared_by_their_field() -> None:
    order = make_order()
    stock = StockLevel.objects.get()
    event = insert_rows([_event(order, actor_label=Decimal("12.50"))])[0]
    # A bool is an int to Python, not to PostgreSQL: sent as it is, the insert would fail.
    reservation = Reservation(order_number=order.number, line_id=10**9, product_id=stock.product_id, quantity=True)
    insert_rows([reservation])

    assert OrderEvent.objects.get(pk=event.pk).actor_label == "12.50"
    assert Reservation.objects.get(pk=reservation.pk).quantity == 1
