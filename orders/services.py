"""Every write to orders. Each public function is one use case and one transaction.

Status changes go through ``_order_set_status``: the only code that writes ``Order.status``.
It locks the row, checks ``transitions.TRANSITIONS``, stamps the stage time and records an
``OrderEvent``, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.models import Reservation
from inventory.selectors import products_by_sku, reservations_of_order, stock_shortages
from inventory.services.stock import (
    DemandLine,
    SplitPart,
    reservations_prioritize,
    reservations_split,
    stock_release_order,
    stock_reserve_order,
)
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.services import idempotency_claim, idempotency_complete
from orders import transitions
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus, PaymentStatus
from orders.locks import lock_order
from orders.models import Address, Order, OrderEvent, OrderLine, Payment, ShippingMethod

CENT = Decimal("0.01")
IDEMPOTENCY_SCOPE = "orders.create"


class TransitionNotAllowed(Conflict):
    code = OrderErrorCode.TRANSITION_NOT_ALLOWED


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


@dataclass
class PaymentResult:
    payment: Payment
    created: bool
    order: Order


# --- the one writer of Order.status ---------------------------------------------------------


def _record_event(
    *,
    order: Order,
    actor: Actor,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        actor_kind=actor.kind,
        actor_label=actor.label,
        actor_user_id=actor.user_id,
        actor_api_client_id=actor.api_client_id,
    )


def _order_set_status(
    *,
    order: Order,
    to_status: str,
    actor: Actor,
    note: str = "",
    extra_fields: dict[str, Any] | None = None,
    from_statuses: frozenset[str] | None = None,
) -> Order:
    """Moves a locked order to ``to_status`` and audits it. The caller holds the row lock.

    ``from_statuses`` narrows the table for use cases that share a target status (aborting a
    pick and paying both lead to ``paid``). Raises TransitionNotAllowed (409) when the move
    is not allowed from the current status.
    """
    from_status = order.status
    if not transitions.can_move(from_status, to_status) or (
        from_statuses is not None and from_status not in from_statuses
    ):
        allowed = sorted(transitions.allowed_from(from_status))
        raise TransitionNotAllowed(
            f"Order {order.number} is {from_status} and cannot become {to_status}"
            + (f"; from {from_status} it can become: {', '.join(allowed)}." if allowed else "; it is final."),
            extra={"number": order.number, "status": from_status, "requested": to_status, "allowed": allowed},
        )
    if to_status == OrderStatus.PICKING:
        _require_fully_allocated(order)
    now = timezone.now()
    order.status = to_status
    update_fields = ["status", "updated_at"]
    stamp = transitions.STAMP_FIELD.get(to_status)
    if stamp and getattr(order, stamp) is None:  # the first time the order entered the stage
        setattr(order, stamp, now)
        update_fields.append(stamp)
    for name, value in (extra_fields or {}).items():
        setattr(order, name, value)
        update_fields.append(name)
    order.save(update_fields=update_fields)
    _stock_follows_status(order, actor, note)
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    return order


class OrderShortOfStock(Conflict):
    code = OrderErrorCode.ORDER_SHORT_OF_STOCK


def _require_fully_allocated(order: Order) -> None:
    shortages = stock_shortages(order_number=order.number)
    if shortages:
        raise OrderShortOfStock(
            f"Order {order.number} cannot be picked yet: stock is short for "
            + ", ".join(f"{s.sku} ({s.quantity_short} of {s.quantity})" for s in shortages)
            + ". It can be picked once the stock is received, or split off the lines that are in stock.",
            extra={
                "number": order.number,
                "lines": [{"sku": s.sku, "quantity": s.quantity, "short": s.quantity_short} for s in shortages],
            },
        )


def _stock_follows_status(order: Order, actor: Actor, note: str) -> None:
    """Stock consequences of a status, in the same transaction (lock order: order, then
    stock): a cancelled order frees its stock; a paid one queues its backorders by payment
    time."""
    if order.status == OrderStatus.CANCELLED:
        stock_release_order(actor=actor, order_number=order.number, reason=note or "order cancelled")
    elif order.status == OrderStatus.PAID and order.paid_at is not None:
        reservations_prioritize(order_number=order.number, paid_at=order.paid_at)


@transaction.atomic
def _order_transition(
    *,
    number: str,
    to_status: str,
    actor: Actor,
    note: str = "",
    from_statuses: frozenset[str] | None = None,
    **extra: Any,
) -> Order:
    order = lock_order(number=number)
    return _order_set_status(
        order=order, to_status=to_status, actor=actor, note=note, extra_fields=extra, from_statuses=from_statuses
    )


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


def _shipping_method(code: str) -> ShippingMethod:
    method = ShippingMethod.objects.filter(code=code, is_active=True).first()
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
        # A concurrent order took the same channel reference between our check and insert.
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
    if draft.external_reference:
        existing = Order.objects.filter(channel=draft.channel, external_reference=draft.external_reference).first()
        if existing is not None:
            raise _duplicate_reference(existing)

    addresses = [Address(**vars(draft.shipping_address))]
    if draft.billing_address is not None and draft.billing_address != draft.shipping_address:
        addresses.append(Address(**vars(draft.billing_address)))
    Address.objects.bulk_create(addresses)

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
    order.save(force_insert=True)
    if order_id is None:  # databases without sequences: number from the primary key
        order.number = format_order_number(order.pk)
        Order.objects.filter(pk=order.pk).update(number=order.number)
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    reservations = stock_reserve_order(
        actor=actor,
        order_number=order.number,
        lines=[DemandLine(line.pk, line.product_id, line.sku, line.quantity) for line in order_lines],
        allow_backorder=settings.OMS_ALLOW_BACKORDER if draft.allow_backorder is None else draft.allow_backorder,
    )
    created_event = _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.CREATED,
        to_status=order.status,
        data={"channel": draft.channel, "external_reference": draft.external_reference, "total": str(order.total)},
    )
    if idempotency is not None:
        idempotency_complete(
            owner=idempotency.owner, scope=IDEMPOTENCY_SCOPE, key=idempotency.key, resource_id=order.number
        )
    return OrderCreateResult(
        order=order, created=True, lines=order_lines, events=[created_event], reservations=reservations
    )


# --- payments -------------------------------------------------------------------------------

NOT_PAYABLE = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})


def payment_record(
    *, actor: Actor, number: str, amount: Decimal, method: str, reference: str, currency: str | None = None
) -> PaymentResult:
    """Records captured money; the order becomes ``paid`` once payments cover its total.

    An underpayment is recorded (and audited) without moving the order. A reference already
    recorded for this order changes nothing and returns that payment (``created`` False).
    Raises NotFound, InvalidInput (currency differs from the order's), Conflict (reference
    used for another order, or the order is cancelled or returned).
    """
    try:
        return _payment_record(
            actor=actor, number=number, amount=amount, method=method, reference=reference, currency=currency
        )
    except IntegrityError:
        # Another order's payment took this reference between our check and insert.
        existing = Payment.objects.select_related("order").filter(method=method, reference=reference).first()
        if existing is None:
            raise
        return _existing_payment(existing, number)


def _existing_payment(existing: Payment, number: str) -> PaymentResult:
    if existing.order.number != number:
        raise Conflict(
            f"Payment reference {existing.reference} ({existing.method}) is already recorded for another order.",
            code=OrderErrorCode.PAYMENT_REFERENCE_IN_USE,
            extra={"reference": existing.reference, "method": existing.method},
        )
    return PaymentResult(payment=existing, created=False, order=existing.order)


@transaction.atomic
def _payment_record(
    *, actor: Actor, number: str, amount: Decimal, method: str, reference: str, currency: str | None
) -> PaymentResult:
    order = lock_order(number=number)
    existing = Payment.objects.select_related("order").filter(method=method, reference=reference).first()
    if existing is not None:
        return _existing_payment(existing, number)
    if currency and currency != order.currency:
        raise InvalidInput(
            f"Order {order.number} is in {order.currency}; record the payment in {order.currency}.",
            fields={"currency": [f"Must be {order.currency}, the order's currency."]},
            code=OrderErrorCode.CURRENCY_MISMATCH,
        )
    if order.status in NOT_PAYABLE:
        raise Conflict(
            f"Order {order.number} is {order.status}; it takes no more payments. Refund the customer instead.",
            code=OrderErrorCode.ORDER_NOT_PAYABLE,
            extra={"number": order.number, "status": order.status},
        )
    amount = amount.quantize(CENT)
    payment = Payment.objects.create(
        order=order,
        method=method,
        amount=amount,
        currency=order.currency,
        reference=reference,
        status=PaymentStatus.CAPTURED,
    )
    order.amount_paid += amount
    order.save(update_fields=["amount_paid", "updated_at"])
    short = order.total - order.amount_paid
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.PAYMENT_RECORDED,
        note=f"Underpaid by {short} {order.currency}" if short > 0 else "",
        data={
            "payment_id": payment.pk,
            "amount": str(amount),
            "method": method,
            "reference": reference,
            "amount_paid": str(order.amount_paid),
            "total": str(order.total),
        },
    )
    if order.status == OrderStatus.UNHANDLED and short <= 0:
        _order_set_status(order=order, to_status=OrderStatus.PAID, actor=actor, note="Payments cover the total.")
    return PaymentResult(payment=payment, created=True, order=order)


# --- the other moves ------------------------------------------------------------------------


def order_cancel(*, actor: Actor, number: str, reason: str) -> Order:
    """Cancels an unhandled or paid order. Raises TransitionNotAllowed from other statuses."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the order is cancelled.", fields={"reason": ["This field may not be blank."]})
    return _order_transition(
        number=number, to_status=OrderStatus.CANCELLED, actor=actor, note=reason, cancel_reason=reason[:255]
    )


def order_start_picking(*, actor: Actor, number: str, note: str = "") -> Order:
    """Moves a paid order to picking."""
    return _order_transition(number=number, to_status=OrderStatus.PICKING, actor=actor, note=note)


def order_abort_picking(*, actor: Actor, number: str, note: str = "") -> Order:
    """Puts an order being picked back to paid (for example, the picker could not finish).

    Only from ``picking``: an unhandled order becomes paid by payments alone.
    """
    return _order_transition(
        number=number,
        to_status=OrderStatus.PAID,
        actor=actor,
        note=note,
        from_statuses=frozenset({OrderStatus.PICKING}),
    )


def order_mark_packed(*, actor: Actor, number: str, note: str = "") -> Order:
    return _order_transition(number=number, to_status=OrderStatus.PACKED, actor=actor, note=note)


def order_mark_shipped(*, actor: Actor, number: str, note: str = "") -> Order:
    return _order_transition(number=number, to_status=OrderStatus.SHIPPED, actor=actor, note=note)


def order_mark_executed(*, actor: Actor, number: str, note: str = "") -> Order:
    """The package reached the customer: the order is executed."""
    return _order_transition(number=number, to_status=OrderStatus.EXECUTED, actor=actor, note=note)


def order_mark_returned(*, actor: Actor, number: str, note: str = "") -> Order:
    """The goods came back, after delivery or returned to sender while in transit."""
    return _order_transition(number=number, to_status=OrderStatus.RETURNED, actor=actor, note=note)


@dataclass
class SplitResult:
    order: Order  # the original, keeping what still waits for stock (and the shipping charge)
    new_order: Order  # the lines that are in stock, ready to be picked


@transaction.atomic
def order_split(*, actor: Actor, number: str) -> SplitResult:
    """Splits a paid order whose stock is partly there: the allocated units go on as a new
    order (linked by ``split_from``) that can be picked now; the rest waits on the original.

    The payment covers both: the new order counts as paid for its lines; the original keeps
    the shipping charge and the rest. Raises TransitionNotAllowed unless the order is paid,
    Conflict (``nothing_to_split``) when nothing or everything is allocated.
    """
    order = lock_order(number=number)
    if order.status != OrderStatus.PAID:
        raise TransitionNotAllowed(
            f"Order {number} is {order.status}; only a paid order that waits for stock can be split.",
            extra={"number": number, "status": order.status},
        )
    reservations = reservations_of_order(order_number=number)
    lines = list(order.lines.order_by("position"))
    allocated = {line.pk: reservations[line.pk].quantity_allocated if line.pk in reservations else 0 for line in lines}
    if not any(allocated.values()) or all(allocated[line.pk] == line.quantity for line in lines):
        raise Conflict(
            f"Order {number} has "
            + ("no line in stock" if not any(allocated.values()) else "every line in stock")
            + "; there is nothing to split.",
            code=OrderErrorCode.NOTHING_TO_SPLIT,
            extra={"number": number},
        )
    order_id = _next_order_id()
    new_order = Order(
        id=order_id,
        number=format_order_number(order_id) if order_id else f"pending-{uuid.uuid4().hex}",
        channel=order.channel,
        currency=order.currency,
        customer_email=order.customer_email,
        customer_name=order.customer_name,
        customer_phone=order.customer_phone,
        shipping_address_id=order.shipping_address_id,
        billing_address_id=order.billing_address_id,
        shipping_method_id=order.shipping_method_id,
        shipping_price=Decimal("0.00"),
        subtotal=Decimal("0.00"),
        total=Decimal("0.00"),
        customer_note=order.customer_note,
        status=OrderStatus.PAID,
        paid_at=order.paid_at,
        split_from=order,
    )
    new_order.save(force_insert=True)
    if order_id is None:
        new_order.number = format_order_number(new_order.pk)
        Order.objects.filter(pk=new_order.pk).update(number=new_order.number)

    moved_lines: list[tuple[OrderLine, OrderLine]] = []
    parts: list[SplitPart] = []
    for line in lines:
        units = allocated[line.pk]
        if not units:
            continue
        if units == line.quantity:
            line.order = new_order
            line.position = len(moved_lines)
            line.save(update_fields=["order", "position"])
            moved_lines.append((line, line))
        else:
            part = OrderLine.objects.create(
                order=new_order,
                position=len(moved_lines),
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                quantity=units,
            )
            line.quantity -= units
            line.save(update_fields=["quantity"])
            moved_lines.append((line, part))
        parts.append(SplitPart(line_id=line.pk, new_line_id=moved_lines[-1][1].pk, quantity=units))
    reservations_split(from_order=number, to_order=new_order.number, parts=parts)

    new_order.subtotal = sum((new.line_total for _old, new in moved_lines), Decimal("0.00")).quantize(CENT)
    new_order.total = new_order.subtotal
    new_order.amount_paid = new_order.total
    new_order.save(update_fields=["subtotal", "total", "amount_paid"])
    order.subtotal = sum((line.line_total for line in order.lines.all()), Decimal("0.00")).quantize(CENT)
    order.total = order.subtotal + order.shipping_price
    order.amount_paid -= new_order.total
    order.save(update_fields=["subtotal", "total", "amount_paid", "updated_at"])
    note = f"In-stock lines split off as {new_order.number}; the rest of {number} waits for stock."
    _record_event(order=order, actor=actor, kind=OrderEventKind.SPLIT, note=note, data={"new_order": new_order.number})
    _record_event(
        order=new_order,
        actor=actor,
        kind=OrderEventKind.CREATED,
        to_status=OrderStatus.PAID,
        note=f"Split from {number}",
        data={"split_from": number, "total": str(new_order.total)},
    )
    return SplitResult(order=order, new_order=new_order)


EXPIRY_REASON = "payment not received"


def orders_expire_unpaid(*, now: datetime | None = None) -> list[str]:
    """Cancels unhandled orders older than OMS_UNPAID_ORDER_TTL_HOURS; returns their numbers.

    Each order is cancelled in its own transaction, so one that was paid meanwhile is simply
    skipped (its status is re-checked under the lock).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OMS_UNPAID_ORDER_TTL_HOURS)
    numbers = list(
        Order.objects.filter(status=OrderStatus.UNHANDLED, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("number", flat=True)[:1000]
    )
    cancelled = []
    actor = Actor.system("system: unpaid order expiry")
    for number in numbers:
        with transaction.atomic():
            order = lock_order(number=number)
            if order.status != OrderStatus.UNHANDLED:
                continue
            _order_set_status(
                order=order,
                to_status=OrderStatus.CANCELLED,
                actor=actor,
                note=EXPIRY_REASON,
                extra_fields={"cancel_reason": EXPIRY_REASON},
            )
        cancelled.append(number)
    return cancelled
