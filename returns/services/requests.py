"""Asking for a return and deciding on it: request (the customer on their status page, or
staff and integrators on their behalf), approve, reject, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from orders.enums import OrderStatus
from orders.locks import lock_order
from orders.models import Order, OrderLine
from returns import transitions
from returns.enums import ReturnErrorCode, ReturnEventKind, ReturnReason, ReturnStatus
from returns.locks import lock_return_with_order
from returns.models import Return, ReturnLine
from returns.services.common import (
    format_return_number,
    record_return_event,
    return_emit,
    return_number_placeholder,
    return_set_status,
)
from returns.services.labels import return_label_ask


class ReturnNotAllowed(Conflict):
    code = ReturnErrorCode.RETURN_NOT_ALLOWED


class ReturnWindowClosed(Conflict):
    code = ReturnErrorCode.RETURN_WINDOW_CLOSED


@dataclass(frozen=True)
class ReturnLineData:
    sku: str
    quantity: int
    reason: str


def return_window_closes(order: Order) -> date | None:
    """The last day (shop time) a return can be asked for: ``OMS_RETURN_WINDOW_DAYS`` after
    delivery. None while the order is not delivered."""
    if order.executed_at is None:
        return None
    return timezone.localdate(order.executed_at) + timedelta(days=settings.OMS_RETURN_WINDOW_DAYS)


def returnable_quantities(order: Order) -> dict[int, int]:
    """Units of each order line (by id) that can still be asked back: its quantity less what
    live returns (not rejected or cancelled) already ask for."""
    asked = dict(
        ReturnLine.objects.filter(ret__order=order, ret__status__in=transitions.LIVE)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    return {line.pk: line.quantity - asked.get(line.pk, 0) for line in OrderLine.objects.filter(order=order)}


def return_require_requestable(order: Order, *, allow_late: bool = False, today: date | None = None) -> None:
    """Raises what ``return_request`` would raise for the order itself (not delivered,
    window closed), writing nothing: lets a page decide whether to offer the form."""
    if order.status != OrderStatus.EXECUTED:
        raise ReturnNotAllowed(
            f"Order {order.number} is {order.status}: a return can be asked for once the order has been delivered.",
            extra={"order": order.number, "status": order.status},
        )
    closes = return_window_closes(order)
    today = today or timezone.localdate()
    if closes is not None and today > closes and not allow_late:
        raise ReturnWindowClosed(
            f"The {settings.OMS_RETURN_WINDOW_DAYS}-day return window of order {order.number} closed on "
            f"{closes.isoformat()}. Contact the shop if something is wrong with the order.",
            extra={"order": order.number, "closed_on": closes.isoformat()},
        )


def _checked_lines(order: Order, lines: list[ReturnLineData], comment: str) -> list[ReturnLine]:
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["lines"] = ["Choose at least one item to return."]
    by_sku = {line.sku: line for line in OrderLine.objects.filter(order=order)}
    left = returnable_quantities(order)
    seen: set[str] = set()
    built = []
    for i, data in enumerate(lines):
        line = by_sku.get(data.sku)
        if line is None:
            errors[f"lines.{i}.sku"] = [f"Order {order.number} has no item {data.sku}."]
            continue
        if data.sku in seen:
            errors[f"lines.{i}.sku"] = [f"{data.sku} is listed twice: put the whole quantity on one line."]
            continue
        seen.add(data.sku)
        if data.quantity < 1:
            errors[f"lines.{i}.quantity"] = ["Return at least one unit."]
        elif data.quantity > left[line.pk]:
            errors[f"lines.{i}.quantity"] = [
                f"Only {left[line.pk]} of {line.quantity} {data.sku} can still be returned"
                + (" (the rest is on another return)." if left[line.pk] < line.quantity else ".")
            ]
        if data.reason not in ReturnReason.values:
            errors[f"lines.{i}.reason"] = [f"Choose a reason: {', '.join(ReturnReason.values)}."]
        elif data.reason == ReturnReason.OTHER and not comment:
            errors["comment"] = ["Tell us the reason in the comment."]
        built.append(ReturnLine(order_line=line, quantity=data.quantity, reason=data.reason))
    if errors:
        raise InvalidInput("The return cannot be asked for as it is.", fields=errors)
    return built


@transaction.atomic
def return_request(
    *, actor: Actor, order_number: str, lines: list[ReturnLineData], comment: str = "", allow_late: bool = False
) -> Return:
    """Opens a return (RMA) for units of a delivered order, each line with a reason, and
    emits ``return.requested`` (the customer's email with the RMA number and instructions).

    ``allow_late`` lets staff with the permission ask after the return window closed.
    Raises NotFound (no such order), ReturnNotAllowed (not delivered), ReturnWindowClosed,
    and InvalidInput naming each bad line (unknown SKU, more than can still be returned, no
    reason), writing nothing."""
    comment = comment.strip()
    order = lock_order(number=order_number)
    return_require_requestable(order, allow_late=allow_late)
    return_lines = _checked_lines(order, lines, comment)
    ret = Return.objects.create(
        number=return_number_placeholder(),
        order=order,
        comment=comment,
        requested_by_kind=actor.kind,
        requested_by=actor.label,
    )
    ret.number = format_return_number(ret.pk)
    Return.objects.filter(pk=ret.pk).update(number=ret.number)
    for line in return_lines:
        line.ret = ret
    ReturnLine.objects.bulk_create(return_lines)
    event = record_return_event(
        ret=ret,
        actor=actor,
        kind=ReturnEventKind.STATUS_CHANGED,
        to_status=ReturnStatus.REQUESTED,
        note=comment,
        data={"lines": [{"sku": d.sku, "quantity": d.quantity, "reason": d.reason} for d in lines]},
    )
    return_emit(ret, event)
    return ret


@transaction.atomic
def return_approve(*, actor: Actor, number: str, note: str = "") -> Return:
    """The shop takes the return: the customer is told how to send it (``return.approved``)
    and, when the order's carrier takes return labels, a worker makes one after commit.
    Raises NotFound, ReturnTransitionNotAllowed."""
    ret = return_set_status(
        ret=lock_return_with_order(number=number), to_status=ReturnStatus.APPROVED, actor=actor, note=note.strip()
    )
    return_label_ask(ret)
    return ret


def _reason_required(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput(f"Say why the return is {what}.", fields={"reason": ["This field may not be blank."]})
    return reason[:255]


@transaction.atomic
def return_reject(*, actor: Actor, number: str, reason: str) -> Return:
    """The shop refuses the return, saying why (``return.rejected``: the customer is told).
    Raises InvalidInput (no reason), NotFound, ReturnTransitionNotAllowed."""
    reason = _reason_required(reason, "rejected")
    ret = lock_return_with_order(number=number)
    return return_set_status(
        ret=ret, to_status=ReturnStatus.REJECTED, actor=actor, note=reason, extra_fields={"decision_note": reason}
    )


@transaction.atomic
def return_cancel(*, actor: Actor, number: str, reason: str) -> Return:
    """Withdraws a return not yet received (the customer changed their mind, nothing came
    back): its units can be asked for again. Raises InvalidInput, NotFound,
    ReturnTransitionNotAllowed."""
    reason = _reason_required(reason, "cancelled")
    ret = lock_return_with_order(number=number)
    return return_set_status(
        ret=ret, to_status=ReturnStatus.CANCELLED, actor=actor, note=reason, extra_fields={"decision_note": reason}
    )
