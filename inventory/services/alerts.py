"""Low-stock alerts: one when a SKU's available stock in a warehouse falls below its reorder
point, resolved when it is back; never one per order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from inventory.models import LowStockAlert, Product, ReorderRule, StockLevel, Warehouse
from oms.common.outbox import outbox_emit
from oms.common.rows import Joined

# Every placement looks for its SKUs' rules: hand-written SQL (oms.common.rows).
_RULES = Joined(ReorderRule)


def check_reorder_points(product_ids: Iterable[int], stocks: Iterable[StockLevel]) -> list[LowStockAlert]:
    """Raises or resolves alerts for the SKUs ``product_ids``, given all their stock rows
    (locked, holding current counters, with their locations; a SKU with no row anywhere has
    nothing available). Returns the alerts it raised."""
    available: dict[tuple[int, int], int] = defaultdict(int)
    for s in stocks:
        available[(s.product_id, s.location.warehouse_id)] += s.available
    products = set(product_ids)
    if not products:
        return []
    rules = {(r.product_id, r.warehouse_id): r for r in _RULES.filter_in("product_id", products)}
    if not rules:
        return []
    open_alerts = {
        (a.product_id, a.warehouse_id): a
        for a in LowStockAlert.objects.filter(product_id__in=products, resolved_at__isnull=True)
    }
    raised, resolve = [], []
    for key, rule in rules.items():
        units = available.get(key, 0)
        alert = open_alerts.get(key)
        if units < rule.reorder_point and alert is None:
            raised.append(
                LowStockAlert(
                    product_id=key[0],
                    warehouse_id=key[1],
                    available=units,
                    reorder_point=rule.reorder_point,
                    reorder_quantity=rule.reorder_quantity,
                )
            )
        elif units >= rule.reorder_point and alert is not None:
            resolve.append(alert.pk)
    if resolve:
        LowStockAlert.objects.filter(Q(pk__in=resolve)).update(resolved_at=timezone.now())
    if raised:
        LowStockAlert.objects.bulk_create(raised)
        _emit_low_stock(raised)
    return raised


def _emit_low_stock(alerts: list[LowStockAlert]) -> None:
    """Tells the role that reorders, and integrators (an ERP placing purchase orders)."""
    skus = dict(Product.objects.filter(pk__in={a.product_id for a in alerts}).values_list("pk", "sku"))
    codes = dict(Warehouse.objects.filter(pk__in={a.warehouse_id for a in alerts}).values_list("pk", "code"))
    for alert in alerts:
        outbox_emit(
            topic="stock.low",
            key=f"stock.low:{alert.pk}",
            payload={
                "alert": alert.pk,
                "occurred_at": alert.raised_at.isoformat(),
                "snapshot": {
                    "sku": skus[alert.product_id],
                    "warehouse": codes[alert.warehouse_id],
                    "available": alert.available,
                    "reorder_point": alert.reorder_point,
                    "reorder_quantity": alert.reorder_quantity,
                },
            },
        )
