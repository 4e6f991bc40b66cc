"""An order's returns as its customer reads them on the status page: where each stands, what
it holds and why, what arrived, the refund, and for an approved return the label to print
and where to send the parcel; and whether the customer may ask for another return from the
page (``notifications/customer_returns.py``).

The returns services decide what may be returned (``returns.services.requests``); this module
only puts their answers in the customer's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from notifications.formatting import day, money
from orders.enums import OrderStatus
from orders.models import Order
from returns.enums import ReturnLabelStatus, ReturnReason, ReturnStatus
from returns.models import Return, ReturnLabel, ReturnLine
from returns.services import (
    ReturnNotAllowed,
    ReturnWindowClosed,
    return_require_requestable,
    return_window_closes,
    returnable_quantities,
)

R = ReturnStatus

# Where a return stands, as the customer reads it; refunded and rejected ones also say how
# much and why (``status_words``).
STATUS_WORDS: dict[str, str] = {
    R.REQUESTED: "We are checking your request",
    R.APPROVED: "Send the parcel back",
    R.RECEIVED: "Your parcel arrived; we are checking the items",
    R.INSPECTED: "Checked; your refund is on its way",
    R.REFUNDED: "Refunded",
    R.REJECTED: "Not accepted",
    R.CANCELLED: "Cancelled",
}
_REASONS = dict(ReturnReason.choices)


@dataclass(frozen=True)
class ReturnItem:
    name: str
    quantity: int
    reason: str
    received: int


@dataclass(frozen=True)
class CustomerReturn:
    number: str
    status: str
    words: str
    asked_on: datetime
    items: list[ReturnItem]
    arrived: bool  # the parcel came: the units received are known
    send_back: bool  # approved: the customer packs and sends the parcel now
    label_url: str  # the label to print, once the carrier made it
    label_pending: bool  # a label is asked for and not made yet


def status_words(ret: Return) -> str:
    """ "We are checking your request", "Refunded €20.00", "Not accepted: <why>"..."""
    words = STATUS_WORDS[ret.status]
    if ret.status == R.REFUNDED and ret.refund is not None:
        return f"{words} {money(ret.refund.amount, ret.refund.currency)}"
    if ret.status == R.REJECTED and ret.decision_note:
        return f"{words}: {ret.decision_note}"
    return words


def _label(ret: Return) -> ReturnLabel | None:
    try:
        return ret.label
    except ReturnLabel.DoesNotExist:  # no label asked for: the carrier takes none
        return None


def order_returns(order: Order, token: str) -> list[CustomerReturn]:
    """The order's returns, newest first, in two queries however many there are: the returns
    with their refund and label (without its PDF), then their lines with the order lines."""
    returns = (
        Return.objects.filter(order=order)
        .select_related("refund", "label")
        .defer("label__pdf")
        .prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("order_line__position"))
        )
        .order_by("-created_at", "-id")
    )
    shown = []
    for ret in returns:
        label = _label(ret) if ret.status == R.APPROVED else None
        live = label is not None and label.status == ReturnLabelStatus.LIVE
        shown.append(
            CustomerReturn(
                number=ret.number,
                status=ret.status,
                words=status_words(ret),
                asked_on=ret.created_at,
                items=[
                    ReturnItem(
                        name=line.order_line.name,
                        quantity=line.quantity,
                        reason=str(_REASONS.get(line.reason, line.reason)),
                        received=line.quantity_received,
                    )
                    for line in ret.lines.all()
                ],
                arrived=ret.received_at is not None,
                send_back=ret.status == R.APPROVED,
                label_url=(
                    reverse("order-status-return-label", kwargs={"token": token, "rma": ret.number}) if live else ""
                ),
                label_pending=label is not None and label.status == ReturnLabelStatus.REQUESTED,
            )
        )
    return shown


def return_window_sentence(order: Order) -> str:
    """Until when a delivered order's items can be asked back; nothing for other orders."""
    closes = return_window_closes(order)
    if order.status != OrderStatus.EXECUTED or closes is None:
        return ""
    if timezone.localdate() > closes:
        return f"Items could be sent back until {day(closes)}."
    return f"You can ask to send items back until {day(closes)}."


def return_refusal(order: Order) -> str | None:
    """Why the customer cannot ask for a return of ``order`` from the page, in a sentence for
    them; None while they can (delivered, within the return window, some unit not yet on a
    return). Reads what is still returnable only when the order itself allows a return."""
    try:
        return_require_requestable(order)
    except ReturnWindowClosed:
        return (
            f"Items of order {order.number} could be sent back until {day(return_window_closes(order))}: "
            f"the {settings.OMS_RETURN_WINDOW_DAYS}-day return window has closed. If something is wrong "
            "with the order, write to us."
        )
    except ReturnNotAllowed:
        if order.status == OrderStatus.CANCELLED:
            return f"Order {order.number} was cancelled: there is nothing to send back."
        if order.status == OrderStatus.RETURNED:
            return f"Everything in order {order.number} has come back to us: there is nothing left to send back."
        return f"Order {order.number} has not been delivered yet: you can ask to send items back once it arrives."
    if not any(units > 0 for units in returnable_quantities(order).values()):
        return f"Every item of order {order.number} is already on a return: there is nothing left to send back."
    return None
