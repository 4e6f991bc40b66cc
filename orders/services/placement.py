"""Placing an order: validation against the catalogue, totals, the readable number,
stock reservation and idempotent retries, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from inventory.models import Reservation
from inventory.selectors import products_by_sku
from inventory.services.stock import DemandLine, stock_reserve_order
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.inserts import insert_rows
from oms.common.outbox import outbox_emit
from oms.common.rows import Joined
from oms.common.services import idempotency_claim, idempotency_complete
from orders.enums import OrderErrorCode, OrderEventKind
from orders.models import Address, Order, OrderEvent, OrderLine, ShippingMethod
from orders.services.lifecycle import _record_event
from orders.snapshots import order_snapshot

CENT = Decimal("0.01")
IDEMPOTENCY_SCOPE = "orders.create"


# --- data passed in -------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressData:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    company: str = ""
    region: str = ""
    phone: str = ""


@dataclass(frozen=True)
class LineData:
    sku: str
    quantity: int
    unit_price: Decimal | None = None  # the channel's price; the catalogue price when None


@dataclass(frozen=True)
class CustomerData:
    email: str
    name: str
    phone: str = ""


@dataclass(frozen=True)
class OrderDraft:
    """What a sales channel sends to place an order; prices and totals are decided here."""

    channel: str
    currency: str
    customer: CustomerData
    shipping_address: AddressData
    lines: list[LineData]
    shipping_method: str
    external_reference: str = ""
    billing_address: AddressData | None = None
    shipping_price: Decimal | None = None  # the channel's shipping charge; the method's price when None
    customer_note: str = ""
    # Short stock: False refuses the order (409), True accepts it as a backorder,
    # None follows OMS_ALLOW_BACKORDER.
    allow_backorder: bool | None = None


@dataclass(frozen=True)
class IdempotencyData:
    owner: str
    key: str
    fingerprint: str


@dataclass
class OrderCreateResult:
    order: Order
    created: bool
    # What a new placement wrote, so the caller can answer without reading it back.
    lines: list[OrderLine] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)


# --- creation -------------------------------------------------------------------------------


def _next_order_id() -> int | None:
    """On PostgreSQL, draws the primary key from the table's own sequence before the insert,
    so the readable number is written in the same INSERT. Elsewhere returns None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Order._meta.db_table])
        return int(cursor.fetchone()[0])


def format_order_number(order_id: int) -> str:
    return f"{settings.OMS_ORDER_NUMBER_PREFIX}{order_id:06d}"


def _build_lines(lines: list[LineData]) -> list[OrderLine]:
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.sku in seen:
            errors[f"lines.{index}.sku"] = [
                f"SKU {line.sku} is already on line {seen[line.sku]}; put the whole quantity on one line."
            ]
        seen.setdefault(line.sku, index)
    products = products_by_sku(seen)
    for index, line in enumerate(lines):
        product = products.get(line.sku)
        if product is None:
            errors.setdefault(f"lines.{index}.sku", []).append(f"No product with SKU {line.sku}.")
        elif not product.is_active:
            errors.setdefault(f"lines.{index}.sku", []).append(f"Product {line.sku} is not sold any more.")
    if errors:
        raise InvalidInput(
            "Some order lines cannot be used: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
            fields=errors,
            code=OrderErrorCode.UNKNOWN_SKU,
        )
    return [
        OrderLine(
            position=index,
            product=products[line.sku],
            sku=line.sku,
            name=products[line.sku].name,
            unit_price=(line.unit_price if line.unit_price is not None else products[line.sku].price).quantize(CENT),
            quantity=line.quantity,
        )
        for index, line in enumerate(lines)
    ]


# Every placement reads its shipping method: hand-written SQL (oms.common.rows).
_METHODS = Joined(ShippingMethod)


def _shipping_method(code: str) -> ShippingMethod:
    method: ShippingMethod | None = _METHODS.first(code=code, is_active=True)
    if method is None:
        codes = list(ShippingMethod.objects.filter(is_active=True).values_list("code", flat=True))
        raise InvalidInput(
            f"Unknown shipping method {code!r}; use one of: {', '.join(codes) or 'none configured'}.",
            fields={"shipping_method": [f"Unknown shipping method {code!r}."]},
            code=OrderErrorCode.UNKNOWN_SHIPPING_METHOD,
        )
    return method


def order_create(*, actor: Actor, draft: OrderDraft, idempotency: IdempotencyData | None = None) -> OrderCreateResult:
    """Places an order in status ``unhandled`` with totals computed here.

    With ``idempotency``, a repeated key with the same body returns the first order
    (``created`` False). Side effects: none outside the database yet.
    Raises InvalidInput (unknown SKU or shipping method), Conflict (the channel's reference
    is already used), IdempotencyKeyReused (same key, different body).
    """
    try:
        return _order_create(actor=actor, draft=draft, idempotency=idempotency)
    except IntegrityError:
        # The channel already has an order with this reference (the unique constraint on
        # channel and reference; nothing was written).
        existing = Order.objects.filter(channel=draft.channel, external_reference=draft.external_reference).first()
        if draft.external_reference and existing is not None:
            raise _duplicate_reference(existing) from None
        raise


def _duplicate_reference(existing: Order) -> Conflict:
    return Conflict(
        f"Channel {existing.channel} already has an order with reference {existing.external_reference}: "
        f"{existing.number}. Send an Idempotency-Key to retry safely.",
        code=OrderErrorCode.DUPLICATE_EXTERNAL_REFERENCE,
        extra={"number": existing.number},
    )


@transaction.atomic
def _order_create(*, actor: Actor, draft: OrderDraft, idempotency: IdempotencyData | None) -> OrderCreateResult:
    if idempotency is not None:
        earlier = idempotency_claim(
            owner=idempotency.owner, scope=IDEMPOTENCY_SCOPE, key=idempotency.key, fingerprint=idempotency.fingerprint
        )
        if earlier is not None:
            return OrderCreateResult(order=Order.objects.get(number=earlier.resource_id), created=False)

    method = _shipping_method(draft.shipping_method)
    order_lines = _build_lines(draft.lines)
    # A reference the channel used already is refused by the unique constraint when the
    # order is inserted (``order_create`` turns that into the Conflict), before any stock.

    addresses = [Address(**vars(draft.shipping_address))]
    if draft.billing_address is not None and draft.billing_address != draft.shipping_address:
        addresses.append(Address(**vars(draft.billing_address)))
    insert_rows(addresses)

    subtotal = sum((line.line_total for line in order_lines), Decimal("0.00")).quantize(CENT)
    ship_price = (draft.shipping_price if draft.shipping_price is not None else method.price).quantize(CENT)
    order_id = _next_order_id()
    order = Order(
        id=order_id,
        number=format_order_number(order_id) if order_id else f"pending-{uuid.uuid4().hex}",
        channel=draft.channel,
        external_reference=draft.external_reference,
        currency=draft.currency,
        customer_email=draft.customer.email,
        customer_name=draft.customer.name,
        customer_phone=draft.customer.phone,
        shipping_address=addresses[0],
        billing_address=addresses[-1],
        shipping_method=method,
        shipping_price=ship_price,
        subtotal=subtotal,
        total=subtotal + ship_price,
        customer_note=draft.customer_note,
    )
    insert_rows([order])
    if order_id is None:  # databases without sequences: number from the primary key
        order.number = format_order_number(order.pk)
        Order.objects.filter(pk=order.pk).update(number=order.number)
    for line in order_lines:
        line.order = order
    insert_rows(order_lines)
    created_event = _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.CREATED,
        to_status=order.status,
        data={"channel": draft.channel, "external_reference": draft.external_reference, "total": str(order.total)},
    )
    outbox_emit(
        topic="order.created",
        key=f"order.created:{order.number}",
        payload={
            "order": order.number,
            "event": created_event.pk,
            "occurred_at": created_event.created_at.isoformat(),
            "snapshot": order_snapshot(order, order_lines),
        },
    )
    if idempotency is not None:
        idempotency_complete(
            owner=idempotency.owner, scope=IDEMPOTENCY_SCOPE, key=idempotency.key, resource_id=order.number
        )
    # Stock last: every placement of these SKUs queues on their stock rows, so they are locked
    # just before the commit and held for as short a time as possible (the lock order is kept:
    # the new order's rows, then stock).
    reservations = stock_reserve_order(
        actor=actor,
        order_number=order.number,
        lines=[DemandLine(line.pk, line.product_id, line.sku, line.quantity) for line in order_lines],
        allow_backorder=settings.OMS_ALLOW_BACKORDER if draft.allow_backorder is None else draft.allow_backorder,
    )
    return OrderCreateResult(
        order=order, created=True, lines=order_lines, events=[created_event], reservations=reservations
    )
