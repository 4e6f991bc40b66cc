"""What every watch shares: the cause of an incident, how a watch is described, and how
figures read in its sentences."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from dashboard.models import Incident
from orders.enums import OrderStatus
from orders.models import Order
from shipping.enums import TrackingStatus

# Short picks and weight overrides older than this are not brought into the inbox (a first
# sync on an old database would otherwise open years of them); also how long a shipment
# returned to sender is looked for by its status.
LOOKBACK_DAYS = 14

# Orders that can still change hands or money: a payment mismatch is looked for among them
# (the status index), and among the orders of incidents still open, whatever their status.
ACTIVE_ORDER_STATUSES = (
    OrderStatus.UNHANDLED,
    OrderStatus.PAID,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
)

# Carrier news that needs someone to act: call the customer, the carrier, or book a re-send.
TRACKING_PROBLEMS = (
    TrackingStatus.EXCEPTION,
    TrackingStatus.ATTEMPTED_DELIVERY,
    TrackingStatus.DELAYED,
    TrackingStatus.RETURNED_TO_SENDER,
)

SUMMARY_MAX = 255
RESOLUTION_MAX = 255


@dataclass(frozen=True)
class Cause:
    """One problem that exists now, as an incident would record it."""

    key: str
    kind: str
    order_id: int | None
    summary: str
    detail: dict[str, Any]
    raised_at: datetime


@dataclass(frozen=True)
class Watch:
    """How the sync looks at one kind of problem.

    ``find(now, open_incidents)`` returns the problems that exist now; it is given the kind's
    open incidents so that it can look at their subjects again by primary key. ``explain``
    (None: the kind never clears by itself) says, for each open incident whose key ``find``
    no longer returned, why it cleared.
    """

    kind: str
    find: Callable[[datetime, list[Incident]], list[Cause]]
    explain: Callable[[list[Incident]], dict[int, str]] | None


def sentence(text: str, limit: int = SUMMARY_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def money_text(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def day_text(value: date) -> str:
    return value.strftime("%a %d %b %Y")


def local_moment(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d %b %Y %H:%M")


def moved_reason(order: Order | None) -> str:
    """Why an order-bound problem ended, from where the order is now."""
    if order is None:
        return "the order is gone"
    reasons: dict[str, str] = {
        OrderStatus.UNHANDLED: "the order is waiting for payment again",
        OrderStatus.PAID: "the order is paid and waiting to be picked",
        OrderStatus.PICKING: "picking started",
        OrderStatus.PACKED: "the order was packed",
        OrderStatus.SHIPPED: "the order was handed to the carrier",
        OrderStatus.EXECUTED: "the order was delivered",
        OrderStatus.RETURNED: "the order was returned",
        OrderStatus.CANCELLED: "the order was cancelled",
    }
    return reasons.get(order.status, f"the order is {order.status} now")


def detail_ids(incidents: Iterable[Incident], name: str) -> list[int]:
    return [int(i.detail[name]) for i in incidents if isinstance(i.detail, dict) and i.detail.get(name) is not None]
