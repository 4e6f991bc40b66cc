"""Shipments: ``_shipment_set_status`` is the only code that writes ``Shipment.status``; it
runs in the caller's transaction with the shipment row locked, checks
``shipping.transitions`` and records a ``ShipmentEvent``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.common.actors import Actor
from oms.common.errors import Conflict, NotFound
from orders.enums import OrderStatus
from orders.locks import lock_order
from shipping import transitions
from shipping.enums import ShipmentStatus, ShippingErrorCode
from shipping.models import Shipment, ShipmentEvent, ShippingMethodService


class ShipmentTransitionNotAllowed(Conflict):
    code = ShippingErrorCode.SHIPMENT_TRANSITION_NOT_ALLOWED


def lock_shipment(shipment_id: int) -> Shipment:
    # of=self: the joined carrier and service rows are read, not locked; otherwise every
    # shipment of a carrier would queue on its carrier row.
    return (
        Shipment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("carrier", "service")
        .get(pk=shipment_id)
    )


def shipment_record(
    shipment: Shipment, actor: Actor, kind: str, note: str = "", data: dict[str, Any] | None = None, **statuses: str
) -> ShipmentEvent:
    return ShipmentEvent.objects.create(
        shipment=shipment,
        kind=kind,
        note=note[:255],
        data=data or {},
        actor_label=actor.label,
        from_status=statuses.get("from_status", ""),
        to_status=statuses.get("to_status", ""),
    )


def _shipment_set_status(shipment: Shipment, to_status: str, *, actor: Actor, note: str = "") -> Shipment:
    """Moves a locked shipment; raises ShipmentTransitionNotAllowed (409)."""
    from_status = shipment.status
    if not transitions.can_move(from_status, to_status):
        raise ShipmentTransitionNotAllowed(
            f"The shipment of {shipment.order_id} is {shipment.get_status_display().lower()}; "
            f"it cannot become {ShipmentStatus(to_status).label.lower()}.",
            extra={"status": from_status, "to": to_status},
        )
    shipment.status = to_status
    fields = ["status", "updated_at"]
    now = timezone.now()
    if to_status == ShipmentStatus.HANDED_OVER and shipment.handed_over_at is None:
        shipment.handed_over_at = now
        fields.append("handed_over_at")
    if to_status == ShipmentStatus.DELIVERED and shipment.delivered_at is None:
        shipment.delivered_at = now
        fields.append("delivered_at")
    shipment.save(update_fields=fields)
    shipment_record(shipment, actor, "status_changed", note, from_status=from_status, to_status=to_status)
    return shipment


@transaction.atomic
def shipment_open(*, actor: Actor, order_number: str) -> Shipment:
    """The order's shipment, created on first use with the carrier service its shipping
    method maps to. Locks the order. Raises NotFound, Conflict ``no_carrier_service``."""
    order = lock_order(number=order_number)
    existing = Shipment.objects.filter(order=order).first()
    if existing is not None:
        return existing
    if order.status != OrderStatus.PACKED:
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}; labels are made once it is packed.",
            code="order_not_packed",
        )
    link = (
        ShippingMethodService.objects.select_related("service__carrier")
        .filter(shipping_method__code=order.shipping_method_id)
        .first()
    )
    if link is None:
        raise Conflict(
            f"Shipping method {order.shipping_method_id} is not mapped to a carrier service: map it in the admin "
            "(Shipping method services), then retry the labels.",
            code=ShippingErrorCode.NO_CARRIER_SERVICE,
        )
    shipment = Shipment.objects.create(order=order, service=link.service, carrier=link.service.carrier)
    shipment_record(shipment, actor, "opened", f"{link.service.carrier_id}/{link.service.code}")
    return shipment


def shipment_of(order_number: str) -> Shipment:
    shipment = Shipment.objects.select_related("carrier", "service").filter(order__number=order_number).first()
    if shipment is None:
        raise NotFound(f"Order {order_number} has no shipment yet.")
    return shipment
