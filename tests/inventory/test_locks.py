"""The stock lock's hand-written SQL against the ORM query it stands in for on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.forms.models import model_to_dict

from inventory import locks
from inventory.models import Location, Product, StockLevel, Warehouse
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _snapshot(stocks: list[StockLevel]) -> list[tuple[dict, dict, dict]]:
    return [
        (
            model_to_dict(stock) | {"updated_at": stock.updated_at},
            model_to_dict(stock.location) | {"created_at": stock.location.created_at},
            model_to_dict(stock.location.warehouse) | {"updated_at": stock.location.warehouse.updated_at},
        )
        for stock in stocks
    ]


def test_the_sql_lock_returns_what_the_orm_lock_returns_with_locations_and_warehouses() -> None:
    main = Warehouse.objects.create(code="MAIN", name="Main", city="Warsaw", country="PL")
    east = Warehouse.objects.create(code="EAST", name="East", is_active=False)
    bins = [
        Location.objects.create(warehouse=main, code="A-01", pick_sequence=20),
        Location.objects.create(warehouse=east, code="E-01", pick_sequence=5, is_active=False),
    ]
    mug, cap, other = ProductFactory(sku="MUG"), ProductFactory(sku="CAP"), ProductFactory(sku="TEE")
    for product, location, on_hand, allocated in [(cap, bins[1], 7, 2), (mug, bins[0], 3, 0), (other, bins[0], 9, 9)]:
        StockLevel.objects.create(product=product, location=location, on_hand=on_hand, allocated=allocated)
    ids = [cap.pk, mug.pk, cap.pk]
    with transaction.atomic():
        in_sql = locks._lock_in_sql(sorted(set(ids)))
        with_orm = locks._lock_with_orm(sorted(set(ids)))
    assert len(in_sql) == 2
    assert _snapshot(in_sql) == _snapshot(with_orm)
    assert [s.pk for s in in_sql] == sorted(s.pk for s in in_sql)
    assert all(not s._state.adding and s.location.warehouse.code for s in in_sql)


@pytest.mark.django_db(transaction=True)
def test_the_sql_lock_needs_a_transaction() -> None:
    product = Product.objects.create(sku="MUG", name="Mug", price="1.00")
    with pytest.raises(TransactionManagementError):
        locks._lock_in_sql([product.pk])
