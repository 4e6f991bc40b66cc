from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone

from inventory.models import (
    Location,
    LowStockAlert,
    Product,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from oms.common.errors import NotFound
from oms.common.rows import Joined


def product_list() -> QuerySet[Product]:
    return Product.objects.all().order_by("sku")


# Every placement reads its SKUs: hand-written SQL (oms.common.rows), no ORM compiling.
_PRODUCTS = Joined(Product)


def products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    return {p.sku: p for p in _PRODUCTS.filter_in("sku", set(skus))}


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


# --- warehouses and bins --------------------------------------------------------------------


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.all().order_by("code")


def location_list() -> QuerySet[Location]:
    """Bins with their warehouse (one query for any number)."""
    return Location.objects.select_related("warehouse").order_by("code")


def warehouses_by_code(codes: Iterable[str]) -> dict[str, Warehouse]:
    return {w.code: w for w in Warehouse.objects.filter(code__in=set(codes))}


def locations_by_code(codes: Iterable[str]) -> dict[str, Location]:
    return {loc.code: loc for loc in Location.objects.select_related("warehouse").filter(code__in=set(codes))}


def product_get(*, sku: str) -> Product:
    """Raises NotFound (``product_not_found``)."""
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise NotFound(f"No product with SKU {sku}.", code="product_not_found", extra={"sku": sku})
    return product


def scan_matches(product: Product, code: str) -> bool:
    """Whether a scanned or typed code names the product: its SKU (any case) or its barcode."""
    code = code.strip()
    return code.lower() == product.sku.lower() or (bool(product.barcode) and code == product.barcode)


def product_by_scan(code: str) -> Product | None:
    """The product a scanned or typed code names, if any (to say what was scanned instead)."""
    code = code.strip()
    return Product.objects.filter(Q(sku__iexact=code) | Q(barcode=code)).first()


def location_get(*, code: str) -> Location:
    """The bin with its warehouse. Raises NotFound (``location_not_found``)."""
    location = Location.objects.select_related("warehouse").filter(code=code).first()
    if location is None:
        raise NotFound(f"No location with code {code}.", code="location_not_found", extra={"location": code})
    return location


# --- stock levels and the ledger ------------------------------------------------------------


def _warehouse_available(product: str, warehouse: str) -> Subquery:
    """Available units (on hand - allocated, every bin) of the outer row's SKU in the outer
    row's warehouse; NULL when it has no stock row there. The same sum the low-stock alerts
    use (``inventory.services.alerts``)."""
    return Subquery(
        StockLevel.objects.filter(product=OuterRef(product), location__warehouse=OuterRef(warehouse))
        .order_by()
        .values("product")
        .annotate(units=Sum(F("on_hand") - F("allocated")))
        .values("units")[:1],
        output_field=IntegerField(),
    )


def stock_level_list() -> QuerySet[StockLevel]:
    """Stock rows with SKU, bin and warehouse (one query for any number of rows)."""
    return StockLevel.objects.select_related("product", "location__warehouse").order_by("id")


def stock_levels_below_reorder_point(queryset: QuerySet[StockLevel], *, below: bool = True) -> QuerySet[StockLevel]:
    """Narrows ``queryset`` to the rows of SKUs whose available stock in the row's warehouse
    is below the warehouse's reorder point (``below`` False: every other row). Subqueries, so
    the page still costs one query."""
    # The rule of the row's SKU and warehouse, if the rule's own SKU and warehouse hold
    # fewer available units than its point.
    below_point = ReorderRule.objects.filter(
        product=OuterRef("product"),
        warehouse=OuterRef("location__warehouse"),
        reorder_point__gt=Coalesce(_warehouse_available("product", "warehouse"), 0),
    )
    return queryset.annotate(_below=Exists(below_point)).filter(_below=below)


def stock_movement_list() -> QuerySet[StockMovement]:
    """The ledger, newest first, with SKU, bin and warehouse (one query)."""
    return StockMovement.objects.select_related("product", "location__warehouse").order_by("-id")


# --- reorder rules and low-stock alerts -----------------------------------------------------

DEMAND_WINDOW_DAYS = 30


def reorder_rule_list() -> QuerySet[ReorderRule]:
    return ReorderRule.objects.select_related("product", "warehouse").order_by("id")


def low_stock_alert_list(*, include_resolved: bool = False, now: datetime | None = None) -> QuerySet[LowStockAlert]:
    """Low-stock alerts (open ones only unless ``include_resolved``), newest first, each with

    - ``available_now``: available units of the SKU in the alert's warehouse now;
    - ``demand_30d``: units of the SKU reserved by orders placed in the last 30 days (all
      warehouses: an order asks for a SKU, not for a warehouse), NULL when none;
    - ``days_of_cover``: ``available_now`` / (``demand_30d`` / 30), one decimal, NULL without demand.

    One query for any number of alerts.
    """
    since = (now or timezone.now()) - timedelta(days=DEMAND_WINDOW_DAYS)
    demand = Subquery(
        Reservation.objects.filter(product=OuterRef("product"), created_at__gte=since)
        .order_by()
        .values("product")
        .annotate(units=Sum("quantity"))
        .values("units")[:1],
        output_field=IntegerField(),
    )
    queryset = LowStockAlert.objects.select_related("product", "warehouse").order_by("-id")
    if not include_resolved:
        queryset = queryset.filter(resolved_at__isnull=True)
    decimal = DecimalField(max_digits=20, decimal_places=4)
    return queryset.annotate(
        available_now=Coalesce(_warehouse_available("product", "warehouse"), Value(0)),
        demand_30d=demand,
    ).annotate(
        days_of_cover=Case(
            When(
                demand_30d__gt=0,
                then=Round(
                    Cast(F("available_now") * DEMAND_WINDOW_DAYS, decimal) / Cast(F("demand_30d"), decimal),
                    precision=1,
                ),
            ),
            default=None,
            output_field=DecimalField(max_digits=20, decimal_places=1),
        )
    )
