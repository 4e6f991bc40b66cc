"""Orders that missed their ship-by day or their promised delivery."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from dashboard.services.incidents.watches.base import (
    Cause,
    day_text,
    moved_reason,
    sentence,
)
from notifications.services.alerts import late_orders
from orders.enums import OrderStatus

# --- late orders ----------------------------------------------------------------------------


def _late_key(order_id: int, due: str, day: date) -> str:
    return f"late_order:{order_id}:{due}:{day.isoformat()}"


def find_late_orders(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    today = timezone.localdate(now)
    causes = []
    # The same rule as the managers' daily digest of late orders.
    for row in late_orders(today).values("pk", "number", "status", "ship_by", "promised_delivery"):
        shipped = row["status"] == OrderStatus.SHIPPED
        day: date = row["promised_delivery"] if shipped else row["ship_by"]  # type: ignore[assignment]  # late_orders() compares it
        if shipped:
            summary = f"Not delivered by the day promised to the customer, {day_text(day)}. Ask the carrier."
        else:
            status = OrderStatus(row["status"]).label.lower()
            summary = f"Not handed to the carrier by its ship-by day, {day_text(day)}; it is {status}. Ship it first."
        causes.append(
            Cause(
                key=_late_key(row["pk"], "delivery" if shipped else "ship_by", day),
                kind=IncidentKind.LATE_ORDER,
                order_id=row["pk"],
                summary=sentence(summary),
                detail={"order": row["number"], "due": "delivery" if shipped else "ship_by", "day": day.isoformat()},
                # Late from the first moment of the day after the one it missed (shop time).
                raised_at=timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)),
            )
        )
    return causes


def explain_late_orders(incidents: list[Incident]) -> dict[int, str]:
    why = {}
    for incident in incidents:
        order = incident.order
        due = incident.detail.get("due")
        if order is None:
            why[incident.pk] = "Cleared: the order is gone."
        elif due == "ship_by" and order.status in (OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED):
            why[incident.pk] = (
                f"Cleared: the ship-by day is now {day_text(order.ship_by)}."
                if order.ship_by
                else ("Cleared: the order has no ship-by day any more.")
            )
        elif due == "delivery" and order.status == OrderStatus.SHIPPED:
            why[incident.pk] = (
                f"Cleared: the promised day is now {day_text(order.promised_delivery)}."
                if order.promised_delivery
                else "Cleared: the order has no promised day any more."
            )
        else:
            why[incident.pk] = f"Cleared: {moved_reason(order)}."
    return why
