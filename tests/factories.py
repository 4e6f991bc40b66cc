"""Test data. Orders are made through the services, so they are real orders with real events."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory.models import Location, Product, Warehouse
from inventory.services.stock import ReceiptLine, stock_receive
from oms.common.actors import Actor
from oms.common.services import CreatedApiClient, api_client_create
from orders import services
from orders.demo import order_walk_to
from orders.enums import OrderStatus
from orders.models import Order, ShippingMethod

_seq = itertools.count(1)
SYSTEM = Actor.system("tests")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("10.00")
    weight_grams = 100


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod
        django_get_or_create = ("code",)

    code = "standard"
    name = "Standard delivery"
    price = Decimal("4.99")


def stock_up(sku: str, quantity: int = 100, *, location: str = "A-01-1", warehouse: str = "MAIN") -> Location:
    """Receives ``quantity`` units of ``sku`` into a bin (made if missing) through the service."""
    wh, _ = Warehouse.objects.get_or_create(code=warehouse, defaults={"name": f"Warehouse {warehouse}"})
    loc, _ = Location.objects.get_or_create(code=location, defaults={"warehouse": wh, "pick_sequence": 10})
    product = ProductFactory(sku=sku)
    stock_receive(actor=SYSTEM, reference="test stock", lines=[ReceiptLine(product, loc, quantity)])
    return loc


def make_staff(role: str | None, username: str | None = None) -> Any:
    user = get_user_model().objects.create_user(username=username or f"user{next(_seq)}", password="pw", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_api_client(name: str | None = None, roles: list[str] | None = None) -> CreatedApiClient:
    return api_client_create(name=name or f"client-{next(_seq)}", roles=roles or ["integrator"])


def order_payload(**overrides: Any) -> dict[str, Any]:
    """The body of POST /api/v1/orders/ from the API contract."""
    body: dict[str, Any] = {
        "channel": "web",
        "external_reference": f"WEB-{next(_seq)}",
        "currency": "EUR",
        "customer": {"email": "ann@example.com", "name": "Ann Lee", "phone": "+48600100200"},
        "shipping_address": {
            "name": "Ann Lee",
            "line1": "Main St 1",
            "line2": "",
            "city": "Warsaw",
            "postal_code": "00-001",
            "country": "PL",
            "phone": "+48600100200",
        },
        "lines": [{"sku": "TSHIRT-RED-M", "quantity": 2}],
        "shipping_method": "standard",
    }
    body.update(overrides)
    return body


def make_order(status: str = OrderStatus.UNHANDLED, *, skus: tuple[str, ...] = ("TSHIRT-RED-M",), **kw: Any) -> Order:
    """An order placed through the service and walked to ``status`` through the services."""
    ShippingMethodFactory()
    for sku in skus:
        ProductFactory(sku=sku, price=Decimal("29.90"))
        if kw.get("stocked", True):
            stock_up(sku, 1)
    draft = services.OrderDraft(
        channel=kw.get("channel", "web"),
        external_reference=kw.get("external_reference", f"T-{next(_seq)}"),
        currency="EUR",
        customer=services.CustomerData(email=kw.get("email", "ann@example.com"), name="Ann Lee"),
        shipping_address=services.AddressData(
            name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL"
        ),
        lines=[services.LineData(sku=sku, quantity=1) for sku in skus],
        shipping_method="standard",
        allow_backorder=kw.get("allow_backorder"),
    )
    order = services.order_create(actor=SYSTEM, draft=draft).order
    order_walk_to(order=order, status=status, actor=SYSTEM)
    return Order.objects.get(number=order.number)
