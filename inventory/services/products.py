"""Use cases of the product catalogue."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from inventory.models import Product
from oms.common.errors import InvalidInput


def _check_unique(*, sku: str | None, barcode: str | None, exclude_pk: int | None = None) -> None:
    fields: dict[str, list[str]] = {}
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk else Product.objects.all()
    if sku is not None and others.filter(sku=sku).exists():
        fields["sku"] = [f"A product with SKU {sku} already exists."]
    if barcode and others.filter(barcode=barcode).exists():
        fields["barcode"] = [f"Barcode {barcode} already belongs to another product."]
    if fields:
        raise InvalidInput("The product clashes with an existing one.", fields=fields, code="duplicate")


@transaction.atomic
def product_create(
    *, sku: str, name: str, price: Decimal, barcode: str = "", weight_grams: int = 0, is_active: bool = True
) -> Product:
    """Adds a product. Raises InvalidInput (code ``duplicate``) if the SKU or barcode is taken."""
    _check_unique(sku=sku, barcode=barcode)
    try:
        with transaction.atomic():
            return Product.objects.create(
                sku=sku, name=name, price=price, barcode=barcode, weight_grams=weight_grams, is_active=is_active
            )
    except IntegrityError:  # a concurrent create won the race for the same SKU or barcode
        _check_unique(sku=sku, barcode=barcode)
        raise


@transaction.atomic
def product_update(*, product: Product, **changes: object) -> Product:
    """Changes name, barcode, weight, price or active flag. Past order lines keep their snapshot."""
    allowed = {"name", "barcode", "weight_grams", "price", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            "These fields cannot be changed.", fields={k: ["This field cannot be changed."] for k in sorted(unknown)}
        )
    if "barcode" in changes:
        _check_unique(sku=None, barcode=str(changes["barcode"]), exclude_pk=product.pk)
    for field, value in changes.items():
        setattr(product, field, value)
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    return product
