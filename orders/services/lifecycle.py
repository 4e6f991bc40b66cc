"""The lifecycle: ``_order_set_status`` is the only code that writes ``Order.status``. It
locks nothing itself (callers hold the order lock), checks ``transitions.TRANSITIONS``, stamps
the stage time, keeps stock in step, records an ``OrderEvent`` and writes the outbox messages
routed to ``order.<status>``, in the caller's transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.selectors import stock_shortages
from inventory.services.stock import reservations_prioritize, stock_release_order
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.inserts import insert_rows
from oms.common.outbox import outbox_emit
from orders import transitions
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus
from orders.locks import lock_order
from orders.models import Order, OrderEvent
from orders.snapshots import order_snapshot


class TransitionNotAllowed(Conflict):
    code = OrderErrorCode.TRANSITION_NOT_ALLOWED


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
    event = OrderEvent(
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
    insert_rows([event])
    return event


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
    order_require_move(order, to_status, from_statuses=from_statuses)
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
    event = _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    # Side effects of the move (labels once packed...) run after commit, from the outbox.
    outbox_emit(
        topic=f"order.{to_status}",
        key=f"order.{to_status}:{order.number}:{event.pk}",
        payload={
            "order": order.number,
            "from": from_status,
            "to": to_status,
            "event": event.pk,
            "occurred_at": event.created_at.isoformat(),
            "snapshot": order_snapshot(order),
        },
    )
    return order


def order_require_move(order: Order, to_status: str, *, from_statuses: frozenset[str] | None = None) -> None:
    """Raises what ``_order_set_status`` would raise for this move, writing nothing: lets a
    use case that moves an order among other things (a pick list start) refuse up front with
    the same error. Raises TransitionNotAllowed or OrderShortOfStock (both 409)."""
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


@transaction.atomic
def order_set_promise(*, actor: Actor, number: str, ship_by: date, promised_delivery: date) -> Order:
    """Records the carrier's promise for a paid order: the day it must leave and the day it
    should arrive (computed by shipping from the payment time). Recorded once: an order that
    already has a promise keeps it, so a late or repeated computation changes nothing."""
    order = lock_order(number=number)
    if order.ship_by is not None:
        return order
    order.ship_by, order.promised_delivery = ship_by, promised_delivery
    order.save(update_fields=["ship_by", "promised_delivery", "updated_at"])
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.PROMISED,
        note=f"ship by {ship_by.isoformat()}, delivery promised for {promised_delivery.isoformat()}",
        data={"ship_by": ship_by.isoformat(), "promised_delivery": promised_delivery.isoformat()},
    )
    return order
