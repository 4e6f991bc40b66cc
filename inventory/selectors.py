from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, QuerySet

from inventory.models import Product, Reservation


def product_list() -> QuerySet[Product]:
    return Product.objects.all().order_by("sku")


def products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    return {p.sku: p for p in Product.objects.filter(sku__in=set(skus))}


@dataclass(frozen=True)
class Shortage:
    sku: str
    quantity: int
    quantity_short: int


def stock_shortages(*, order_number: str) -> list[Shortage]:
    """The order's lines that are not fully allocated (one query)."""
    return [
        Shortage(sku=r.product.sku, quantity=r.quantity, quantity_short=r.quantity - r.quantity_allocated)
        for r in Reservation.objects.select_related("product")
        .filter(order_number=order_number, quantity_allocated__lt=F("quantity"))
        .order_by("id")
    ]


def reservations_of_order(*, order_number: str) -> dict[int, Reservation]:
    """The order's reservations by order line id (one query)."""
    return {r.line_id: r for r in Reservation.objects.filter(order_number=order_number)}
