"""What happens to a return once it is approved: the parcel is received (how many units of
each line arrived), each unit is inspected (back to a bin through the stock ledger, or
scrapped with a reason), and the customer is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum

from inventory.models import Location
from inventory.services.stock import ReceiptLine, stock_restock_return
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from orders.enums import OrderStatus
from orders.models import Order, OrderLine
from orders.services import order_mark_returned, refund_record
from returns import transitions
from returns.enums import InspectionOutcome, ReturnErrorCode, ReturnEventKind, ReturnReason, ReturnStatus
from returns.locks import lock_return_with_order
from returns.models import Return, ReturnInspection, ReturnLine
from returns.services.common import record_return_event, return_require_move, return_set_status


class NothingLeftToInspect(Conflict):
    code = ReturnErrorCode.NOTHING_LEFT_TO_INSPECT


@transaction.atomic
def return_receive(*, actor: Actor, number: str, received: dict[str, int] | None = None, note: str = "") -> Return:
    """Records the parcel's arrival: ``received`` units per SKU (all that were asked for when
    None). When every unit the order shipped has come back, over all its returns, the order
    becomes ``returned``, its note naming the reasons. Emits ``return.received``.

    Raises NotFound, ReturnTransitionNotAllowed (not approved), InvalidInput (an SKU not on
    the return, more than asked for, nothing at all), writing nothing."""
    ret = lock_return_with_order(number=number)
    return_require_move(ret, ReturnStatus.RECEIVED)
    lines = list(ret.lines.select_related("order_line"))
    counts = {line.order_line.sku: line.quantity for line in lines} if received is None else dict(received)
    errors: dict[str, list[str]] = {}
    on_return = {line.order_line.sku: line for line in lines}
    for sku, units in counts.items():
        line = on_return.get(sku)
        if line is None:
            errors[f"received.{sku}"] = [f"{sku} is not on return {ret.number}."]
        elif units < 0 or units > line.quantity:
            errors[f"received.{sku}"] = [f"Between 0 and {line.quantity} units of {sku} were sent back."]
    if not errors and sum(counts.values()) < 1:
        errors["received"] = ["Record at least one unit received; if nothing came back, cancel the return instead."]
    if errors:
        raise InvalidInput("The receipt of the return does not match it.", fields=errors)
    for line in lines:
        line.quantity_received = counts.get(line.order_line.sku, 0)
    ReturnLine.objects.bulk_update(lines, ["quantity_received"])
    return_set_status(ret=ret, to_status=ReturnStatus.RECEIVED, actor=actor, note=note.strip())
    _order_returned_if_all_back(ret.order, actor)
    return ret


def _order_returned_if_all_back(order: Order, actor: Actor) -> None:
    """Moves a delivered order to ``returned`` once the units received over its returns
    cover every unit it shipped; the move's note lists the reasons given."""
    if order.status != OrderStatus.EXECUTED:
        return
    back = {
        row["order_line_id"]: row["units"]
        for row in ReturnLine.objects.filter(ret__order=order, ret__status__in=transitions.LIVE)
        .values("order_line_id")
        .annotate(units=Sum("quantity_received"))
    }
    if any(back.get(line.pk, 0) < line.quantity for line in OrderLine.objects.filter(order=order)):
        return
    reasons = (
        ReturnLine.objects.filter(ret__order=order, ret__status__in=transitions.LIVE, quantity_received__gt=0)
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
        .values_list("reason", flat=True)
    )
    labels = dict(ReturnReason.choices)
    order_mark_returned(actor=actor, number=order.number, note="; ".join(str(labels[r]) for r in reasons))


@transaction.atomic
def return_inspect(
    *,
    actor: Actor,
    number: str,
    sku: str,
    outcome: str,
    quantity: int = 1,
    location: Location | None = None,
    note: str = "",
) -> Return:
    """Records ``quantity`` received units of ``sku`` as inspected: restocked into
    ``location`` (a ``return`` movement in the stock ledger, which also serves waiting
    backorders) or scrapped (``note`` says why). Once every received unit is inspected the
    return becomes ``inspected`` (``return.inspected``), ready to refund.

    Raises NotFound, ReturnTransitionNotAllowed (not received yet), InvalidInput (unknown
    SKU, no bin to restock into, no reason to scrap), NothingLeftToInspect (more units than
    remain), writing nothing."""
    note = note.strip()
    ret = lock_return_with_order(number=number)
    if ret.status != ReturnStatus.RECEIVED:
        return_require_move(ret, ReturnStatus.INSPECTED)  # raises: received returns are the ones inspected
    line = ret.lines.select_related("order_line__product").filter(order_line__sku=sku).first()
    errors: dict[str, list[str]] = {}
    if line is None:
        errors["sku"] = [f"{sku} is not on return {ret.number}."]
    if outcome not in InspectionOutcome.values:
        errors["outcome"] = [f"Choose {' or '.join(InspectionOutcome.values)}."]
    elif outcome == InspectionOutcome.RESTOCK and location is None:
        errors["location"] = ["Choose the bin the units go back into."]
    elif outcome == InspectionOutcome.SCRAP and not note:
        errors["note"] = ["Say why the units are scrapped."]
    if quantity < 1:
        errors["quantity"] = ["Inspect at least one unit."]
    if errors:
        raise InvalidInput("The inspection cannot be recorded as it is.", fields=errors)
    assert line is not None
    left = line.quantity_received - line.inspections.count()
    if quantity > left:
        raise NothingLeftToInspect(
            f"Return {ret.number} has {left} received unit(s) of {sku} left to inspect, not {quantity}.",
            extra={"return": ret.number, "sku": sku, "left": left},
        )
    if outcome == InspectionOutcome.RESTOCK:
        assert location is not None
        stock_restock_return(
            actor=actor,
            order_number=ret.order.number,
            reference=ret.number,
            lines=[ReceiptLine(product=line.order_line.product, location=location, quantity=quantity)],
        )
    ReturnInspection.objects.bulk_create(
        ReturnInspection(
            line=line,
            outcome=outcome,
            location=location if outcome == InspectionOutcome.RESTOCK else None,
            note=note[:255],
            actor_label=actor.label,
        )
        for _ in range(quantity)
    )
    record_return_event(
        ret=ret,
        actor=actor,
        kind=ReturnEventKind.UNIT_INSPECTED,
        note=note,
        data={
            "sku": sku,
            "quantity": quantity,
            "outcome": outcome,
            "location": location.code if location is not None and outcome == InspectionOutcome.RESTOCK else "",
        },
    )
    if _units_left_to_inspect(ret) == 0:
        return_set_status(ret=ret, to_status=ReturnStatus.INSPECTED, actor=actor)
    return ret


def _units_left_to_inspect(ret: Return) -> int:
    lines = ret.lines.annotate(inspected=Count("inspections")).values_list("quantity_received", "inspected")
    return sum(received - inspected for received, inspected in lines)


def return_refund_due(ret: Return) -> Decimal:
    """What the units received are worth at the prices paid: what a refund of the return
    usually is (staff may refund less, such as for a used item)."""
    return sum(
        (line.order_line.unit_price * line.quantity_received for line in ret.lines.select_related("order_line")),
        Decimal("0.00"),
    )


@dataclass(frozen=True)
class RefundData:
    amount: Decimal
    method: str
    reference: str


@transaction.atomic
def return_refund(*, actor: Actor, number: str, refund: RefundData, note: str = "") -> Return:
    """Records the refund of an inspected return (``orders.services.refund_record``: the
    order's refunded amount, the refund email) and closes the return (``return.refunded``).

    Raises NotFound, ReturnTransitionNotAllowed (not inspected yet, or already refunded),
    and what ``refund_record`` raises (more than paid and not yet refunded, a reference used
    by another order), writing nothing."""
    ret = lock_return_with_order(number=number)
    return_require_move(ret, ReturnStatus.REFUNDED)
    result = refund_record(
        actor=actor,
        number=ret.order.number,
        amount=refund.amount,
        method=refund.method,
        reference=refund.reference,
        reason=f"Return {ret.number}" + (f": {note.strip()}" if note.strip() else ""),
    )
    if not result.created:
        raise Conflict(
            f"Refund {refund.reference} ({refund.method}) is already recorded for order {ret.order.number}; "
            "give the reference of this return's refund.",
            code="refund_reference_in_use",
            extra={"reference": refund.reference, "method": refund.method},
        )
    return return_set_status(
        ret=ret, to_status=ReturnStatus.REFUNDED, actor=actor, note=note.strip(), extra_fields={"refund": result.refund}
    )
