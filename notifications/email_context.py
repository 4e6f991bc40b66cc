"""What customer email templates are given: the order as it is when the email is prepared,
plus what the event carried (a tracking scan, a refund)."""

from __future__ import annotations

from typing import Any

from notifications.enums import NotificationKind
from notifications.status_links import status_link_url
from orders.models import Order
from shipping.enums import LabelStatus, TrackingStatus
from shipping.models import Label, Shipment

_TRACKING_LABELS = dict(TrackingStatus.choices)


def _parcels(order: Order) -> tuple[Shipment | None, list[dict[str, str]]]:
    shipment = Shipment.objects.select_related("carrier").filter(order=order).first()
    if shipment is None:
        return None, []
    labels = Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE).order_by("pk")
    parcels = [
        {"tracking_number": label.tracking_number or "", "url": shipment.carrier.tracking_url(label.tracking_number)}
        for label in labels
        if label.tracking_number
    ]
    return shipment, parcels


def customer_context(kind: str, order: Order, payload: dict[str, Any]) -> dict[str, Any]:
    shipment, parcels = _parcels(order)
    snapshot = payload.get("snapshot") or {}
    context: dict[str, Any] = {
        "order": order,
        "lines": list(order.lines.all()),
        "customer_name": order.customer_name,
        "status_url": status_link_url(order),
        "carrier_name": shipment.carrier.name if shipment else "",
        "parcels": parcels,
        "promised_delivery": order.promised_delivery,
    }
    events = snapshot.get("events") or []
    if events:
        latest = events[-1]
        context["tracking"] = {
            **latest,
            "status_label": _TRACKING_LABELS.get(latest.get("status", ""), latest.get("status", "")),
        }
    if "refund" in snapshot:
        context["refund"] = snapshot["refund"]
    if kind == NotificationKind.ORDER_UPDATED:
        # What staff changed, in sentences written when it happened (orders/services/editing.py).
        context["changes"] = list(payload.get("changes") or [])
    return context
