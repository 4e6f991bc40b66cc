"""Use cases of reorder rules. A rule change is checked against current stock at once, so an
alert is raised (or resolved) without waiting for the next stock movement."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.locks import lock_stock_of_products
from inventory.models import LowStockAlert, Product, ReorderRule, Warehouse
from inventory.services import alerts
from oms.common.errors import InvalidInput


def _duplicate(product: Product, warehouse: Warehouse, existing_id: int | None) -> InvalidInput:
    message = f"{product.sku} already has a reorder rule in warehouse {warehouse.code}; change that one."
    error = InvalidInput(message, fields={"sku": [message]}, code="duplicate")
    if existing_id is not None:
        error.extra = {"id": existing_id}
    return error


def _recheck(product_id: int) -> None:
    # Same lock as every stock change of the SKU, so the check sees settled counters.
    alerts.check_reorder_points([product_id], lock_stock_of_products([product_id]))


@transaction.atomic
def reorder_rule_create(
    *, product: Product, warehouse: Warehouse, reorder_point: int, reorder_quantity: int
) -> ReorderRule:
    """Adds a rule and raises a low-stock alert at once if stock is already below the point.
    Raises InvalidInput (code ``duplicate``) if the SKU has a rule in that warehouse."""
    existing = ReorderRule.objects.filter(product=product, warehouse=warehouse).values_list("id", flat=True).first()
    if existing is not None:
        raise _duplicate(product, warehouse, existing)
    try:
        with transaction.atomic():
            rule = ReorderRule.objects.create(
                product=product, warehouse=warehouse, reorder_point=reorder_point, reorder_quantity=reorder_quantity
            )
    except IntegrityError:
        raise _duplicate(product, warehouse, None) from None
    _recheck(product.pk)
    return rule


@transaction.atomic
def reorder_rule_update(*, rule: ReorderRule, **changes: object) -> ReorderRule:
    """Changes the point or the quantity, then raises or resolves the alert to match."""
    unknown = set(changes) - {"reorder_point", "reorder_quantity"}
    if unknown:
        raise InvalidInput(
            "These fields cannot be changed.", fields={k: ["This field cannot be changed."] for k in sorted(unknown)}
        )
    for field, value in changes.items():
        setattr(rule, field, value)
    if changes:
        rule.save(update_fields=list(changes))
        _recheck(rule.product_id)
    return rule


@transaction.atomic
def reorder_rule_delete(*, rule: ReorderRule) -> None:
    """Removes a rule and resolves its open alert (nothing would resolve it any more)."""
    lock_stock_of_products([rule.product_id])
    LowStockAlert.objects.filter(
        product_id=rule.product_id, warehouse_id=rule.warehouse_id, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
    rule.delete()
