"""Labels for parcels customers send back: the order's carrier and service, from the
customer's delivery address to the warehouse the order left from. The returns app keeps the
label and decides when one is made; shipping knows carriers, addresses and numbering.

Like outbound labels, a return label is made outside any transaction (the carrier's API is a
network call): the caller reserves the tracking number first when the shop numbers parcels
itself (``return_tracking_number_reserve``), keeps it, and passes it to every attempt, so a
retry never takes a second number.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from orders.models import Order
from shipping.carriers import adapter_for
from shipping.carriers.base import LabelRequest, LabelResult
from shipping.models import Carrier, Shipment
from shipping.services.labels import delivery_address, warehouse_address


def return_label_carrier(order: Order) -> Carrier | None:
    """The carrier that would carry the order's return: its shipment's, when that carrier
    is active and takes return labels; None otherwise."""
    shipment = Shipment.objects.select_related("carrier").filter(order=order).first()
    if shipment is None or not shipment.carrier.is_active or not shipment.carrier.return_labels:
        return None
    return shipment.carrier


def return_tracking_number_reserve(carrier: Carrier, *, origin_country: str) -> str | None:
    """Own numbering: the next serial from the carrier's counter row and the number made of
    it; None when the carrier numbers parcels itself. Raises CarrierRejected."""
    adapter = adapter_for(carrier)
    if not adapter.needs_serial():
        return None
    with transaction.atomic():
        Carrier.objects.filter(pk=carrier.pk).update(last_serial=F("last_serial") + 1)
        serial = Carrier.objects.values_list("last_serial", flat=True).get(pk=carrier.pk)
    return adapter.reserve_tracking_number(serial=serial, origin_country=origin_country)


def return_label_make(*, order: Order, reference: str, weight_grams: int, tracking_number: str = "") -> LabelResult:
    """Makes the label with the order's carrier: the customer's delivery address sends, the
    order's warehouse receives. ``reference`` names the return (the carrier de-duplicates by
    it where it can). Outside transactions. Raises CarrierRejected (no warehouse address,
    refused) and CarrierUnavailable (try again)."""
    shipment = Shipment.objects.select_related("carrier", "service", "order__shipping_address").get(order=order)
    customer = delivery_address(shipment.order)
    request = LabelRequest(
        reference=reference,
        carrier_code=shipment.carrier.code,
        carrier_name=shipment.carrier.name,
        service_code=shipment.service.code,
        service_name=shipment.service.name,
        sender=customer,
        recipient=warehouse_address(shipment.order),
        weight_grams=weight_grams,
        package=1,
        packages=1,
        order_number=order.number,
        tracking_number=tracking_number,
    )
    return adapter_for(shipment.carrier).create_label(request)
