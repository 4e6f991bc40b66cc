"""The warehouse's problems: orders waiting for stock, short picks and weight overrides from
the accuracy ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import CharField, Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from dashboard.services.incidents.watches.base import (
    LOOKBACK_DAYS,
    Cause,
    moved_reason,
    sentence,
)
from fulfillment.enums import AccuracyKind
from fulfillment.models import AccuracyEvent
from inventory.models import Reservation
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent

# --- stock shortage -------------------------------------------------------------------------


def find_stock_shortages(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    # The partial index reservation_waiting holds exactly the reservations short of stock.
    short = (
        Reservation.objects.filter(
            quantity_allocated__lt=F("quantity"),
            order_number__in=Order.objects.filter(status=OrderStatus.PAID).values("number"),
        )
        .order_by("order_number", "id")
        .values_list("order_number", "product__sku", "quantity", "quantity_allocated")
    )
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, sku, quantity, allocated in short:
        lines[number].append({"sku": sku, "quantity": quantity, "short": quantity - allocated})
    if not lines:
        return []
    # The payment, or the latest return to "paid" from picking (a short pick sent it back):
    # a shortage after such a return is a new one.
    entered_paid = (
        OrderEvent.objects.filter(
            order=OuterRef("pk"),
            kind=OrderEventKind.STATUS_CHANGED,
            from_status=OrderStatus.PICKING,
            to_status=OrderStatus.PAID,
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    orders = (
        Order.objects.filter(number__in=list(lines), status=OrderStatus.PAID)
        .annotate(entered_paid=Subquery(entered_paid))
        .order_by()
        .values("pk", "number", "paid_at", "entered_paid")
    )
    causes = []
    for order in orders:
        began: datetime = order["entered_paid"] or order["paid_at"] or now
        missing = lines[order["number"]]
        summary = "Waiting for stock: " + ", ".join(
            f"{m['sku']} {m['short']} of {m['quantity']} missing" for m in missing
        )
        causes.append(
            Cause(
                key=f"stock_shortage:{order['pk']}:{began:%Y%m%dT%H%M%S.%f}",
                kind=IncidentKind.STOCK_SHORTAGE,
                order_id=order["pk"],
                summary=sentence(summary + ". Receive the stock, or split off the lines in stock."),
                detail={"order": order["number"], "lines": missing},
                raised_at=began,
            )
        )
    return causes


def explain_stock_shortages(incidents: list[Incident]) -> dict[int, str]:
    return {
        i.pk: (
            "Cleared: every line has its stock now."
            if i.order is not None and i.order.status == OrderStatus.PAID
            else f"Cleared: {moved_reason(i.order)}."
        )
        for i in incidents
    }


# --- short picks and weight overrides (the accuracy ledger) ---------------------------------


def find_accuracy(kind: str) -> Callable[[datetime, list[Incident]], list[Cause]]:
    def find(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
        # Only events without an incident yet: the unique key index answers each in one probe.
        known = Incident.objects.filter(key=Concat(Value(f"{kind}:"), Cast(OuterRef("pk"), CharField())))
        events = (
            AccuracyEvent.objects.filter(kind=kind, created_at__gte=now - timedelta(days=LOOKBACK_DAYS))
            .annotate(
                order_pk=Subquery(Order.objects.filter(number=OuterRef("order_number")).values("pk")[:1]),
                known=Exists(known),
            )
            .filter(known=False)
            .order_by("pk")
            .values(
                "pk",
                "order_number",
                "order_pk",
                "sku",
                "location",
                "expected",
                "actual",
                "note",
                "actor_label",
                "supervisor__username",
                "created_at",
                "package_id",
            )
        )
        return [_accuracy_cause(kind, event) for event in events]

    return find


def _accuracy_cause(kind: str, event: Mapping[str, Any]) -> Cause:
    if kind == AccuracyKind.SHORT_PICK:
        summary = (
            f"Short pick of {event['sku']} in bin {event['location']}: {event['actual']} found of "
            f"{event['expected']} expected, by {event['actor_label']}. Check the bin and the order's stock."
        )
    else:
        approved = event["supervisor__username"] or "a supervisor"
        summary = (
            f"Package weighed {event['actual']} against {event['expected']}, sent on as approved by "
            f"{approved}: {event['note'] or 'no reason given'}."
        )
    return Cause(
        key=f"{kind}:{event['pk']}",
        kind=kind,
        order_id=event["order_pk"],
        summary=sentence(summary),
        detail={
            "order": event["order_number"],
            "event": event["pk"],
            "sku": event["sku"],
            "location": event["location"],
            "expected": event["expected"],
            "actual": event["actual"],
            "note": event["note"],
            "by": event["actor_label"],
            "supervisor": event["supervisor__username"] or "",
            "package": event["package_id"],
        },
        raised_at=event["created_at"],
    )
