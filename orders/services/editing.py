"""Changing an order before picking starts: its shipping address, its lines and quantities,
and its shipping method, with stock reserved again, totals recomputed as placement computes
them, the change in the timeline and the customer told (``order.updated`` in the outbox).

Once picking has started the warehouse works from the order as it was, so changes stop at
``paid``. Money is not moved here: a paid order whose new total differs from what was paid
stays paid, and the timeline says the difference (the exception inbox picks up the payment
mismatch; staff record the extra payment or the refund).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django_countries import countries

from inventory.locks import lock_stock_of_products
from inventory.selectors import products_by_sku, reservations_of_order
from inventory.services.stock import (
    DemandLine,
    StockShort,
    stock_release_order,
    stock_reserve_order,
    stock_serve_waiting,
)
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.outbox import outbox_emit
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus
from orders.locks import lock_order
from orders.models import Address, Order, OrderLine, ShippingMethod
from orders.services.lifecycle import _order_set_status, _record_event
from orders.services.placement import CENT, AddressData, LineData, _build_lines, _shipping_method
from orders.snapshots import order_snapshot

# Statuses in which an order may still change: nothing has been taken off a shelf for it.
EDITABLE_STATUSES = frozenset({OrderStatus.UNHANDLED, OrderStatus.PAID})
_REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")


@dataclass
class _LinePlan:
    """What an edit does to the lines, worked out before anything is written."""

    changed: list[tuple[OrderLine, int, Decimal]] = field(default_factory=list)  # line, new quantity, new price
    removed: list[OrderLine] = field(default_factory=list)
    added: list[OrderLine] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.changed or self.removed or self.added)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(CENT)} {currency}"


def address_data_of(address: Address) -> AddressData:
    """The address as the data class placement takes, to compare with an edit."""
    return AddressData(**{f.name: str(getattr(address, f.name) or "") for f in fields(AddressData)})


def address_line(address: AddressData) -> str:
    parts = [address.name, address.company, address.line1, address.line2]
    place = " ".join(p for p in (address.postal_code, address.city) if p)
    return ", ".join(p for p in (*parts, place, address.region, address.country) if p)


def _clean_address(address: AddressData) -> AddressData:
    values = {f.name: str(getattr(address, f.name) or "").strip() for f in fields(AddressData)}
    values["country"] = values["country"].upper()
    missing = [name for name in _REQUIRED_ADDRESS_FIELDS if not values[name]]
    if missing:
        raise InvalidInput(
            f"The address needs a {', '.join(name.replace('_', ' ') for name in missing)}.",
            fields={f"address.{name}": ["This field is required."] for name in missing},
        )
    if values["country"] not in dict(countries):
        message = f"{values['country']} is not a country code; use two letters such as PL or DE."
        raise InvalidInput(message, fields={"address.country": [message]})
    return AddressData(**values)


def _check_lines(lines: list[LineData]) -> None:
    """Quantities are whole numbers from 0 (0 removes the line), one line per SKU, and at least
    one unit left: an order without lines is cancelled, not edited."""
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.quantity < 0:
            errors[f"lines.{index}.quantity"] = [f"The quantity of {line.sku} cannot be below 0."]
        if line.sku in seen:
            errors[f"lines.{index}.sku"] = [f"{line.sku} is on the order twice; put the whole quantity on one line."]
        seen.add(line.sku)
    if errors:
        raise InvalidInput(" ".join(v[0] for v in errors.values()), fields=errors)
    if not any(line.quantity > 0 for line in lines):
        raise InvalidInput(
            "An order needs at least one item; to drop every item, cancel the order instead.",
            fields={"lines": ["Keep at least one item."]},
        )


def _plan_lines(order: Order, current: list[OrderLine], wanted: list[LineData]) -> _LinePlan:
    """Compares the lines wanted with the order's: a SKU on the order keeps its price (the one
    the customer was offered) unless a price is given; a new SKU gets the catalogue price,
    like placement. A SKU left out or at 0 is removed."""
    plan = _LinePlan()
    by_sku = {line.sku: line for line in current}
    wanted_by_sku = {line.sku: line for line in wanted}
    for line in current:
        want = wanted_by_sku.get(line.sku)
        quantity = want.quantity if want is not None else 0
        if quantity == 0:
            plan.removed.append(line)
            plan.sentences.append(f"{line.name} ({line.sku}) removed.")
            continue
        price = want.unit_price.quantize(CENT) if want and want.unit_price is not None else line.unit_price
        if quantity != line.quantity or price != line.unit_price:
            plan.changed.append((line, quantity, price))
            if quantity != line.quantity:
                plan.sentences.append(f"{line.name} ({line.sku}): quantity changed from {line.quantity} to {quantity}.")
            if price != line.unit_price:
                plan.sentences.append(
                    f"{line.name} ({line.sku}): price changed from {_money(line.unit_price, order.currency)} "
                    f"to {_money(price, order.currency)}."
                )
    new = [line for line in wanted if line.sku not in by_sku and line.quantity > 0]
    if new:
        _check_products(wanted, new)
        next_position = max((line.position for line in current), default=-1) + 1
        for offset, line in enumerate(_build_lines(new)):
            line.order = order
            line.position = next_position + offset
            plan.added.append(line)
            plan.sentences.append(
                f"{line.name} ({line.sku}) added: {line.quantity} at {_money(line.unit_price, order.currency)} each."
            )
    return plan


def _check_products(wanted: list[LineData], new: list[LineData]) -> None:
    """Refuses SKUs the catalogue does not have or no longer sells, in a sentence staff can
    act on (placement's own check speaks to integrators)."""
    products = products_by_sku(line.sku for line in new)
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(wanted):
        if line not in new:
            continue
        product = products.get(line.sku)
        if product is None:
            errors[f"lines.{index}.sku"] = [f"There is no product with SKU {line.sku}; check the SKU."]
        elif not product.is_active:
            errors[f"lines.{index}.sku"] = [f"{product.name} ({line.sku}) is not sold any more."]
    if errors:
        raise InvalidInput(" ".join(v[0] for v in errors.values()), fields=errors, code=OrderErrorCode.UNKNOWN_SKU)


def _require_editable(order: Order, reservations: dict[int, Any]) -> None:
    if order.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}: an order can be changed only "
            "before picking starts"
            + (". Abort picking first if it must change." if order.status == OrderStatus.PICKING else "."),
            code=OrderErrorCode.ORDER_NOT_EDITABLE,
            extra={"number": order.number, "status": order.status},
        )
    if any(r.quantity_picked for r in reservations.values()):
        raise Conflict(
            f"Order {order.number} has items already picked into a tote from an earlier pick list; "
            "pick and pack it as it is, or cancel it.",
            code=OrderErrorCode.ORDER_NOT_EDITABLE,
            extra={"number": order.number, "status": order.status},
        )


def _lines_data(lines: list[OrderLine]) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)} for line in lines]


def _payment_note(order: Order) -> str:
    """What the new total means for money already received, for staff (not the customer)."""
    held = order.amount_paid - order.amount_refunded
    if order.amount_paid == 0 or held == order.total:
        return ""
    if order.total > held:
        return (
            f"The customer has paid {_money(held, order.currency)}; {_money(order.total - held, order.currency)} "
            "more is due for the new total."
        )
    return (
        f"The customer has paid {_money(held, order.currency)}, {_money(held - order.total, order.currency)} "
        "more than the new total: refund the difference."
    )


@transaction.atomic
def order_edit(
    *,
    actor: Actor,
    number: str,
    address: AddressData | None = None,
    lines: list[LineData] | None = None,
    shipping_method: str | None = None,
    note: str = "",
) -> Order:
    """Changes an unhandled or paid order before picking starts.

    ``address`` replaces the shipping address (a new address row: split orders may share the
    old one, and the billing address stays); ``lines`` is the whole list of lines wanted (a SKU
    left out or at quantity 0 is removed, a new SKU is added at the catalogue price);
    ``shipping_method`` changes the method and the shipping charge to the method's price.

    When the lines change, the order's stock is released and reserved again for the new lines
    (every stock row of the SKUs concerned is locked first, in id order: order, then stock, as
    docs/architecture.md sets out). Subtotal and total are recomputed; an unhandled order whose
    payments now cover its total becomes paid. Records an ``edited`` event with what changed
    before and after, and emits ``order.updated`` (the customer's email).

    Raises NotFound (no such order), Conflict ``order_not_editable`` (picking started, or
    items already picked), InvalidInput ``unknown_sku`` / ``unknown_shipping_method`` or for a
    bad quantity or address, InvalidInput ``order_unchanged`` when nothing differs, Conflict
    ``insufficient_stock`` when the new lines cannot be covered. Nothing is written when it
    refuses.
    """
    if lines is not None:
        _check_lines(lines)
    if address is not None:
        address = _clean_address(address)
    order = lock_order(number=number)
    reservations = reservations_of_order(order_number=number)
    _require_editable(order, reservations)
    current = list(order.lines.order_by("position"))

    totals_before = {k: str(getattr(order, k)) for k in ("subtotal", "shipping_price", "total")}
    changes: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    old_address = address_data_of(order.shipping_address)
    change_address = address is not None and address != old_address
    if change_address and address is not None:
        changes.append(f"Shipping address changed to: {address_line(address)}.")
        before["shipping_address"], after["shipping_address"] = vars(old_address), vars(address)

    method: ShippingMethod | None = None
    if shipping_method is not None and shipping_method != order.shipping_method_id:
        method = _shipping_method(shipping_method)
        old_name = ShippingMethod.objects.filter(code=order.shipping_method_id).values_list("name", flat=True).first()
        changes.append(
            f"Shipping method changed from {old_name or order.shipping_method_id} to {method.name} "
            f"(shipping {_money(method.price, order.currency)})."
        )
        before["shipping_method"], after["shipping_method"] = order.shipping_method_id, method.code

    plan = _plan_lines(order, current, lines) if lines is not None else _LinePlan()
    changes.extend(plan.sentences)
    if not changes:
        raise InvalidInput(
            f"Nothing to change: order {number} already has this address, these items and this shipping method.",
            fields={},
            code=OrderErrorCode.ORDER_UNCHANGED,
        )

    if change_address and address is not None:
        order.shipping_address = Address.objects.create(**vars(address))
    if method is not None:
        order.shipping_method = method
        order.shipping_price = method.price.quantize(CENT)
    new_lines = current
    if plan.any:
        before["lines"] = _lines_data(current)
        new_lines = _apply_lines(order, plan)
        after["lines"] = _lines_data(new_lines)
        _reserve_again(actor, order, reservations, new_lines, note or "order edited")

    order.subtotal = sum((line.line_total for line in new_lines), Decimal("0.00")).quantize(CENT)
    order.total = order.subtotal + order.shipping_price
    totals_after = {k: str(getattr(order, k)) for k in ("subtotal", "shipping_price", "total")}
    if totals_after != totals_before:
        before["totals"], after["totals"] = totals_before, totals_after
    if order.total != Decimal(totals_before["total"]):
        changes.append(
            f"Total changed from {_money(Decimal(totals_before['total']), order.currency)} "
            f"to {_money(order.total, order.currency)}."
        )
    order.save(
        update_fields=["shipping_address", "shipping_method", "shipping_price", "subtotal", "total", "updated_at"]
    )

    payment_note = _payment_note(order)
    event = _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.EDITED,
        note=" ".join(p for p in (note.strip(), payment_note) if p),
        data={"changes": changes, "before": before, "after": after, "payment": payment_note},
    )
    outbox_emit(
        topic="order.updated",
        key=f"order.updated:{order.number}:{event.pk}",
        payload={
            "order": order.number,
            "event": event.pk,
            "occurred_at": event.created_at.isoformat(),
            "snapshot": order_snapshot(order, new_lines),
            "changes": changes,
        },
    )
    if order.status == OrderStatus.UNHANDLED and order.amount_paid > 0 and order.amount_paid >= order.total:
        _order_set_status(order=order, to_status=OrderStatus.PAID, actor=actor, note="Payments cover the new total.")
    return order


def _apply_lines(order: Order, plan: _LinePlan) -> list[OrderLine]:
    """Writes the planned lines; returns the order's lines afterwards, in position order."""
    if plan.removed:
        try:
            OrderLine.objects.filter(pk__in=[line.pk for line in plan.removed]).delete()
        except ProtectedError:
            # A pick list (picking aborted since) or a package still names the line.
            raise Conflict(
                f"Items on order {order.number} were on a pick list before, so their lines cannot be removed; "
                "lower the quantity to 1 instead, or cancel the order.",
                code=OrderErrorCode.ORDER_NOT_EDITABLE,
                extra={"number": order.number},
            ) from None
    for line, quantity, price in plan.changed:
        line.quantity, line.unit_price = quantity, price
    OrderLine.objects.bulk_update([line for line, _q, _p in plan.changed], ["quantity", "unit_price"])
    OrderLine.objects.bulk_create(plan.added)
    return list(order.lines.order_by("position"))


def _reserve_again(
    actor: Actor, order: Order, reservations: dict[int, Any], lines: list[OrderLine], reason: str
) -> None:
    """Releases what the order holds and reserves its new lines. Every stock row of the old
    and new SKUs is locked first, in id order, so the release and the reservation (which lock
    subsets of them) take no lock out of the global order. An order that was already waiting
    for stock may keep waiting (a backorder); otherwise short stock refuses the edit."""
    product_ids = {r.product_id for r in reservations.values()} | {line.product_id for line in lines}
    lock_stock_of_products(product_ids)
    was_short = any(r.quantity_allocated < r.quantity for r in reservations.values())
    stock_release_order(actor=actor, order_number=order.number, reason=reason, serve_waiting=False)
    try:
        stock_reserve_order(
            actor=actor,
            order_number=order.number,
            lines=[DemandLine(line.pk, line.product_id, line.sku, line.quantity) for line in lines],
            allow_backorder=settings.OMS_ALLOW_BACKORDER or was_short,
            priority_at=order.paid_at,
        )
    except StockShort as exc:
        short = "; ".join(
            f"{item['sku']} (wanted {item['requested']}, {item['available']} free)" for item in exc.extra["lines"]
        )
        raise Conflict(
            f"Not enough stock for {short}. Lower the quantity or wait for stock; the order was not changed.",
            code=StockShort.code,
            extra=exc.extra,
        ) from None
    # Units the order no longer needs go to orders waiting for them.
    stock_serve_waiting(actor=actor, product_ids=product_ids)
