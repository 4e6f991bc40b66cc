"""The shop's open work, placed through the real services: orders awaiting payment, paid,
being picked and packed hold stock, so their reservations, pick lists, packages and labels
must be the ones the services make. A live shop has a day or two of them, so there are few."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from inventory.models import Location, Product, StockLevel
from inventory.services.stock import ReceiptLine, stock_receive
from oms.common import roles
from oms.common.actors import Actor
from orders import services
from orders.enums import OrderStatus
from orders.models import Order, OrderEvent, Payment, ShippingMethod
from shipping.bulk_demo import people
from shipping.bulk_demo.history import ACTOR
from shipping.demo import order_walk_to

OPEN_MIX = [
    (OrderStatus.UNHANDLED, 25),
    (OrderStatus.PAID, 45),
    (OrderStatus.PICKING, 10),
    (OrderStatus.PACKED, 20),
]
OPEN_MAX = 500
# The expiry sweep cancels unhandled orders after OMS_UNPAID_ORDER_TTL_HOURS (72 by default).
_UNPAID_MAX_HOURS = 60


def open_count_for(bulk: int) -> int:
    """How many of ``bulk`` demo orders are open: a live shop's day or two of work, at most
    ``OPEN_MAX`` (each takes a tenth to a quarter of a second through the services)."""
    return min(OPEN_MAX, bulk // 200)


def open_orders_place(*, count: int, scarce_sku: str, box: str, seed: int = 2027) -> dict[str, int]:
    """Places ``count`` open orders through the services, receiving the stock they need
    first (one paid order in ten also wants ``scarce_sku`` and waits for it), then dates each
    back over the last hours or days, some past their ship-by day. Returns how many reached
    each status. Their delivery promises are stamped afterwards by ``promises_stamp``, from
    the back-dated payment times. Side effects: those of the services (stock, outbox)."""
    rng = random.Random(seed)
    mix = people.Weighted([(str(s), w) for s, w in OPEN_MIX])
    skus = list(
        Product.objects.filter(is_active=True).exclude(sku=scarce_sku).order_by("id").values_list("sku", flat=True)
    )
    plans: list[tuple[str, list[tuple[str, int]]]] = []
    demand: dict[str, int] = {}
    for i in range(count):
        status = OrderStatus.UNHANDLED if count == 1 else mix.pick(rng.random())
        lines = [
            (sku, rng.choice((1, 1, 1, 2, 3))) for sku in rng.sample(skus, min(len(skus), rng.choice((1, 1, 2, 2, 3))))
        ]
        for sku, quantity in lines:
            demand[sku] = demand.get(sku, 0) + quantity
        if status == OrderStatus.PAID and i % 10 == 3:
            lines.append((scarce_sku, 2))
        plans.append((status, lines))
    actor = Actor.system(ACTOR)
    bins = dict(
        StockLevel.objects.filter(product__sku__in=demand).order_by("id").values_list("product__sku", "location")
    )
    products = Product.objects.in_bulk(list(demand), field_name="sku")
    locations = Location.objects.in_bulk(list(bins.values()))
    receipt = [ReceiptLine(products[sku], locations[bins[sku]], n) for sku, n in sorted(demand.items()) if sku in bins]
    if receipt:
        stock_receive(actor=actor, reference="DEMO-RECEIPT-OPEN", lines=receipt)
    users = get_user_model().objects.in_bulk([roles.PICKER, roles.PACKER, roles.SHIPPER], field_name="username")
    methods = sorted(ShippingMethod.objects.filter(is_active=True).values_list("code", flat=True))
    channels = people.Weighted([(str(c), w) for c, w in people.CHANNELS])
    placed: dict[str, int] = {}
    for i, (status, lines) in enumerate(plans):
        customer = people.demo_customer(rng.randrange(1_000_000))
        address = services.AddressData(
            name=customer.name,
            line1=customer.line1,
            city=customer.city,
            postal_code=customer.postal_code,
            country=customer.country,
        )
        draft = services.OrderDraft(
            channel=channels.pick(rng.random()),
            currency="EUR",
            customer=services.CustomerData(email=customer.email, name=customer.name, phone=customer.phone),
            shipping_address=address,
            lines=[services.LineData(sku=sku, quantity=quantity) for sku, quantity in lines],
            shipping_method=rng.choice(methods),
            external_reference=f"OPEN-{i + 1:05d}",
            allow_backorder=True,
        )
        order = services.order_create(actor=actor, draft=draft).order
        order_walk_to(
            order=order,
            status=status,
            actor=actor,
            picker=users[roles.PICKER],
            packer=users[roles.PACKER],
            shipper=users[roles.SHIPPER],
            box=box,
        )
        _date_back(order.pk, _age(status, rng))
        placed[status] = placed.get(status, 0) + 1
    return placed


def _age(status: str, rng: random.Random) -> timedelta:
    if status == OrderStatus.UNHANDLED:  # waiting for a transfer, younger than the expiry sweep's limit
        return timedelta(minutes=rng.randrange(10, _UNPAID_MAX_HOURS * 60))
    if rng.random() < 0.12:  # paid a day or two ago and still here: late
        return timedelta(hours=rng.randrange(26, 60))
    return timedelta(minutes=rng.randrange(5, 8 * 60 if status == OrderStatus.PAID else 4 * 60))


def _date_back(order_id: int, age: timedelta) -> None:
    """Moves an open order's own times ``age`` into the past: its row, events and payments.
    The warehouse's and the stock ledger's rows keep the time they were written."""
    stamps = {name: F(name) - age for name in ("created_at", "updated_at", "paid_at", "picking_at", "packed_at")}
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(**stamps)
        OrderEvent.objects.filter(order_id=order_id).update(created_at=F("created_at") - age)
        Payment.objects.filter(order_id=order_id).update(received_at=F("received_at") - age)
