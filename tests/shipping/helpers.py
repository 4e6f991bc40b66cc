"""Shipping set-ups: an own-fleet carrier mapped to the standard method, a warehouse with a
dispatch address, and orders packed for real through picking and packing."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from django.db.models import Q

from fulfillment.services import packing
from inventory.models import Warehouse
from oms.common.actors import Actor
from oms.common.models import OutboxMessage
from orders.models import Order
from shipping.models import Carrier, CarrierService, PriceRule, ShippingMethodService
from shipping.services.labels import LABELS_TASK
from tests.factories import ShippingMethodFactory
from tests.fulfillment.helpers import manager, packed_at_station, paid_order, stock


def fleet(code: str = "FLEET", prefix: str = "FL", **fields: Any) -> CarrierService:
    """An own-fleet carrier with a Monday-to-Friday 15:00 service carrying ``standard``."""
    ShippingMethodFactory()
    carrier, _ = Carrier.objects.get_or_create(
        code=code,
        defaults={
            "name": "City Fleet",
            "tracking_prefix": prefix,
            "tracking_url_template": "https://track.example/{tracking_number}",
            "webhook_secret": "s3cret-fleet",
            **fields,
        },
    )
    service, _ = CarrierService.objects.get_or_create(
        carrier=carrier,
        code="STD",
        defaults={
            "name": "Standard parcel",
            "transit_days": 2,
            "cutoff_time": time(15),
            "pickup_weekdays": [0, 1, 2, 3, 4],
        },
    )
    PriceRule.objects.get_or_create(service=service, zone="all", defaults={"flat": Decimal("6.50")})
    ShippingMethodService.objects.update_or_create(shipping_method_id="standard", defaults={"service": service})
    return service


def dispatch_address(code: str = "MAIN") -> Warehouse:
    wh, _ = Warehouse.objects.get_or_create(code=code, defaults={"name": f"Warehouse {code}"})
    Warehouse.objects.filter(pk=wh.pk).update(
        sender_name="Demo Shop", line1="Magazynowa 3", postal_code="05-800", city="Pruszków", country="PL"
    )
    return Warehouse.objects.get(pk=wh.pk)


def packed_order(lines: dict[str, int] | None = None, *, sku: str = "MUG", actor: Actor | None = None) -> Order:
    """A paid order picked and packed at a station into one weighed box, packing completed."""
    if lines is None:
        stock(sku, 100, f"B-{sku}", 1, weight_grams=300)
        lines = {sku: 1}
    fleet()
    dispatch_address()
    actor = actor or Actor.for_user(manager())
    order = packed_at_station(paid_order(lines), actor)
    packing.packing_complete(actor=actor, order_number=order.number)
    return Order.objects.get(pk=order.pk)


def label_messages(order: Order) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(task=LABELS_TASK).filter(Q(payload__order=order.number)).order_by("id"))
