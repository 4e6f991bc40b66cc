"""What customer email templates are given: the order as it is when the email is prepared,
plus what the event carried (a tracking scan, a refund) and the return (RMA) it is about."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q
from django_countries import countries

from fulfillment.selectors import dispatch_warehouse
from inventory.models import Warehouse
from notifications.enums import NotificationKind
from notifications.status_links import status_link_url
from oms.common.outbox import GiveUp
from orders.models import Order
from returns.enums import ReturnLabelStatus
from returns.models import Return, ReturnLabel, ReturnLine
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


def _returns() -> Any:
    return Return.objects.prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("id"))
    )


def _return_context(ret: Return) -> dict[str, Any]:
    return {"rma": ret, "return_lines": list(ret.lines.all())}


# What a parcel needs to reach a warehouse, as shipping labels require it.
_HAS_ADDRESS = ~Q(line1="") & ~Q(postal_code="") & ~Q(city="") & ~Q(country="")


def _has_address(warehouse: Warehouse) -> bool:
    return bool(warehouse.line1 and warehouse.postal_code and warehouse.city and warehouse.country)


def return_address(order: Order) -> dict[str, str] | None:
    """Where the customer sends a return: the warehouse the order left from, else the first
    active warehouse with an address; None when no warehouse has one."""
    warehouse = dispatch_warehouse(order)
    if warehouse is None or not _has_address(warehouse):
        warehouse = Warehouse.objects.filter(_HAS_ADDRESS, is_active=True).order_by("pk").first()
    if warehouse is None:
        return None
    code = warehouse.country.upper()
    return {
        "name": warehouse.sender_name or settings.OMS_SHOP_NAME,
        "line1": warehouse.line1,
        "line2": warehouse.line2,
        "postal_code": warehouse.postal_code,
        "city": warehouse.city,
        "country": str(countries.name(code)) or code,
    }


def refund_reason_beyond_return(reason: str, return_number: str) -> str:
    """What a return's refund reason says besides naming the return, which the email names
    anyway: ``returns`` records it as "Return RMA-000007" or "Return RMA-000007: <note>"."""
    named = f"Return {return_number}"
    if reason == named:
        return ""
    return reason.removeprefix(f"{named}: ")


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
    if payload.get("return"):
        ret = _returns().filter(number=payload["return"], order=order).first()
        if ret is None:
            # Returns are never deleted: a payload naming none is a bug retrying cannot fix.
            raise GiveUp(f"Order {order.number} has no return {payload['return']}.")
        context.update(_return_context(ret))
    elif kind == NotificationKind.REFUND_ISSUED and payload.get("refund"):
        # A return's refund is recorded with the return in one transaction: found when sent.
        refunded = _returns().filter(refund_id=payload["refund"]).first()
        if refunded is not None:
            context.update(_return_context(refunded))
            if "refund" in context:
                reason = refund_reason_beyond_return(context["refund"].get("reason", ""), refunded.number)
                context["refund"] = {**context["refund"], "reason": reason}
    if kind == NotificationKind.RETURN_APPROVED:
        context["return_address"] = return_address(order)
        # Asked for in the approving transaction; a worker makes it alongside this email.
        context["has_return_label"] = (
            ReturnLabel.objects.filter(ret__number=payload.get("return"))
            .exclude(status=ReturnLabelStatus.FAILED)
            .exists()
        )
    if kind == NotificationKind.ORDER_UPDATED:
        # What staff changed, in sentences written when it happened (orders/services/editing.py).
        context["changes"] = list(payload.get("changes") or [])
    return context
