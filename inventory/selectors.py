from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from inventory.models import Product


def product_list() -> QuerySet[Product]:
    return Product.objects.all().order_by("sku")


def products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    return {p.sku: p for p in Product.objects.filter(sku__in=set(skus))}
