"""Loads demo data once: products, bins, box types, a packing station, shipping methods with
the carrier services that deliver them, a user per role, an API client, and orders in every
status, all made through the real services: orders that reached the warehouse were picked
from pick lists and packed into weighed boxes, packed ones have their labels, those with the
carrier were scanned out on a manifest and have tracking events, and those waiting for the
carrier have their delivery promise, so timelines and the stock ledger are real.

Past 40 orders, the rest is a year of history written in bulk by ``shipping.bulk_demo`` (a
million orders in minutes instead of days), plus a live shop's open work (up to 500 orders
awaiting payment, paid, picking or packed) placed through the services like the first 40."""

from __future__ import annotations

import random
import secrets
from datetime import time
from decimal import Decimal
from pathlib import Path
from time import monotonic
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from fulfillment.models import PackageType, PackingStation
from inventory.models import Location, Product, Warehouse
from inventory.services.products import product_create
from inventory.services.stock import ReceiptLine, stock_receive
from oms.common import roles
from oms.common.actors import Actor
from oms.common.models import ApiClient
from oms.common.services import api_client_create
from orders import services
from orders.demo import STEPS_TO
from orders.enums import OrderStatus, SalesChannel
from orders.models import Order, ShippingMethod
from shipping.bulk_demo import history_load, open_count_for, open_orders_place
from shipping.calendar import promised_delivery, ship_by
from shipping.demo import order_walk_to
from shipping.models import Carrier, CarrierService, PriceRule, ShippingMethodService
from shipping.selectors import services_by_method
from shipping.services.promises import promises_stamp

# Orders walked one by one through every service; any more are loaded in bulk.
SERVICE_ORDERS = 40
DEMO_PASSWORD = "oms-demo"  # noqa: S105 (demo accounts, printed to the user)

PRODUCTS = [
    ("TSHIRT-RED-M", "T-shirt red M", "5901234123457", 180, "29.90"),
    ("TSHIRT-RED-L", "T-shirt red L", "5901234123464", 190, "29.90"),
    ("TSHIRT-BLUE-M", "T-shirt blue M", "5901234123471", 180, "29.90"),
    ("HOODIE-GREY-L", "Hoodie grey L", "5901234123488", 520, "64.00"),
    ("CAP-BLACK", "Baseball cap black", "5901234123495", 90, "19.50"),
    ("MUG-LOGO", "Mug with logo", "5901234123501", 350, "12.00"),
    ("SOCKS-3PK", "Socks, pack of three", "5901234123518", 120, "14.90"),
    ("BOTTLE-750", "Steel bottle 750 ml", "5901234123525", 310, "24.00"),
]
BOXES = [
    ("MAILER-S", "Mailer bag small", 250, 180, 20, 30),
    ("BOX-S", "Box small", 300, 200, 100, 150),
    ("BOX-M", "Box medium", 400, 300, 200, 320),
]
# Carrier services per shipping method: code, name, level, transit days, cut-off hour, flat, per kg.
SERVICES = {
    "standard": ("STD", "Standard parcel", "standard", 2, 15, "6.50", "1.20"),
    "express": ("EXP", "Express next day", "express", 1, 13, "14.00", "2.00"),
    "pickup": ("PUP", "Pick-up point", "pickup_point", 2, 16, "4.00", "0.80"),
}
METHODS = [
    ("standard", "Standard delivery", "4.99"),
    ("express", "Express delivery", "12.99"),
    ("pickup", "Pick-up point", "2.99"),
]
CUSTOMERS = [
    ("ann@example.com", "Ann Lee", "Main St 1", "Warsaw", "00-001", "PL"),
    ("jan@example.com", "Jan Nowak", "Długa 5", "Kraków", "30-001", "PL"),
    ("eva@example.com", "Eva Schmidt", "Hauptstraße 12", "Berlin", "10115", "DE"),
    ("tom@example.com", "Tom Brown", "12 High Street", "Leeds", "LS1 4AP", "GB"),
    ("lea@example.com", "Léa Martin", "3 rue de Rivoli", "Paris", "75001", "FR"),
]


class Command(BaseCommand):
    help = "Loads demo data (once): users per role, products, an API client and orders in every status."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--orders",
            type=int,
            default=SERVICE_ORDERS,
            help=f"How many demo orders to load (default {SERVICE_ORDERS}). The first {SERVICE_ORDERS} go through "
            "every service; the rest are a year of history loaded in bulk (1,000,000 take minutes on PostgreSQL) "
            "and up to 500 open orders.",
        )
        parser.add_argument(
            "--credentials-file",
            default=str(Path(settings.VAR_DIR) / "demo-credentials.txt"),
            help="Where to write the demo log-ins and API key.",
        )

    def handle(self, *args: Any, orders: int, credentials_file: str, **options: Any) -> None:
        if Order.objects.exists() or ApiClient.objects.filter(name="demo-shop").exists():
            self.stdout.write("Demo data is already loaded; nothing to do.")
            return
        if orders < 0:
            raise CommandError("--orders cannot be negative.")
        started = monotonic()
        with transaction.atomic():
            self._master_data()
            users = self._users()
            key = api_client_create(name="demo-shop", roles=[roles.INTEGRATOR]).raw_key
        bulk = max(orders - SERVICE_ORDERS, 0)
        open_count = open_count_for(bulk)
        if bulk - open_count:
            self._history(bulk - open_count, started)
        self._orders(min(orders, SERVICE_ORDERS))
        if open_count:
            self.stdout.write(f"Placing {open_count:,} open orders through the services…")
            placed = open_orders_place(count=open_count, scarce_sku=PRODUCTS[-1][0], box=BOXES[1][0])
            summary = ", ".join(f"{n:,} {status}" for status, n in sorted(placed.items()))
            self.stdout.write(f"Open orders placed: {summary} ({monotonic() - started:.0f} s).")
        while promises_stamp():  # 500 at a time
            pass
        self._promise_walked_orders()
        lines = [
            "Demo log-ins (password for all: " + DEMO_PASSWORD + "):",
            *(f"  {name:<8} {role}" for name, role in users),
            f"Demo API key (client demo-shop): {key}",
            "Tracking webhook secret of carrier FLEET (POST /api/v1/carriers/FLEET/tracking-events/): "
            + Carrier.objects.get(code="FLEET").webhook_secret,
        ]
        Path(credentials_file).parent.mkdir(parents=True, exist_ok=True)
        Path(credentials_file).write_text("\n".join(lines) + "\n")
        self.stdout.write("\n".join(lines))
        self.stdout.write(f"Loaded {orders:,} demo orders in {monotonic() - started:.0f} s.")

    def _master_data(self) -> None:
        for sku, name, barcode, grams, price in PRODUCTS:
            if not Product.objects.filter(sku=sku).exists():
                product_create(sku=sku, name=name, barcode=barcode, weight_grams=grams, price=Decimal(price))
        warehouse, _ = Warehouse.objects.get_or_create(
            code="MAIN",
            defaults={
                "name": "Main warehouse",
                "sender_name": settings.OMS_SHOP_NAME,
                "line1": "Magazynowa 3",
                "postal_code": "05-800",
                "city": "Pruszków",
                "country": "PL",
            },
        )
        receipt = []
        for index, (sku, *_rest) in enumerate(PRODUCTS):
            location, _ = Location.objects.get_or_create(
                code=f"A-{index // 4 + 1:02d}-{index % 4 + 1}",
                defaults={"warehouse": warehouse, "pick_sequence": (index + 1) * 10},
            )
            # The last product is scarce, so some demo orders wait for stock (backorders).
            receipt.append(
                ReceiptLine(Product.objects.get(sku=sku), location, 4 if index == len(PRODUCTS) - 1 else 500)
            )
        stock_receive(actor=Actor.system("demo data"), reference="DEMO-RECEIPT-1", lines=receipt)
        for code, name, price in METHODS:
            ShippingMethod.objects.get_or_create(code=code, defaults={"name": name, "price": Decimal(price)})
        for code, name, length, width, height, tare in BOXES:
            PackageType.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "length_mm": length,
                    "width_mm": width,
                    "height_mm": height,
                    "tare_grams": tare,
                },
            )
        carrier, _ = Carrier.objects.get_or_create(
            code="FLEET",
            defaults={
                "name": "Own fleet",
                "tracking_url_template": "https://track.example.com/{tracking_number}",
                "tracking_prefix": "FL",
                "webhook_secret": secrets.token_urlsafe(24),
            },
        )
        for method, (code, name, level, transit, cutoff, flat, per_kg) in SERVICES.items():
            service, _ = CarrierService.objects.get_or_create(
                carrier=carrier,
                code=code,
                defaults={
                    "name": name,
                    "service_level": level,
                    "transit_days": transit,
                    "cutoff_time": time(cutoff),
                    "pickup_weekdays": [0, 1, 2, 3, 4],
                },
            )
            PriceRule.objects.get_or_create(
                service=service, zone="everywhere", defaults={"flat": Decimal(flat), "per_kg": Decimal(per_kg)}
            )
            ShippingMethodService.objects.get_or_create(
                shipping_method=ShippingMethod.objects.get(code=method), defaults={"service": service}
            )
        PackingStation.objects.get_or_create(
            code="PACK-1", defaults={"name": "Packing table 1", "warehouse": warehouse}
        )

    def _history(self, count: int, started: float) -> None:
        self.stdout.write(f"Loading {count:,} orders of history…")

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"{done:,} of {total:,} orders ({monotonic() - started:.0f} s)")

        result = history_load(count=count, now=timezone.now(), progress=progress)
        statuses = ", ".join(f"{n:,} {status}" for status, n in sorted(result.by_status.items()))
        self.stdout.write(f"History loaded: {statuses} ({monotonic() - started:.0f} s).")

    def _promise_walked_orders(self) -> None:
        """The sweep stamps the promise of orders waiting for the carrier; a demo order walked
        past them in one go gets the promise it would have had, from its payment time."""
        by_method = services_by_method()
        actor = Actor.system("system: delivery promise")
        for number, method, paid_at in Order.objects.filter(
            paid_at__isnull=False, ship_by__isnull=True, shipping_method_id__in=list(by_method)
        ).values_list("number", "shipping_method_id", "paid_at"):
            if paid_at is None:  # excluded by the query; narrows the type
                continue
            calendar = by_method[str(method)][1]
            day = ship_by(calendar, paid_at)
            services.order_set_promise(
                actor=actor, number=number, ship_by=day, promised_delivery=promised_delivery(calendar, day)
            )

    def _users(self) -> list[tuple[str, str]]:
        user_model = get_user_model()
        made = []
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        made.append(("admin", "superuser"))
        for role in roles.STAFF_ROLES:
            user, created = user_model.objects.get_or_create(username=role, defaults={"is_staff": True})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            made.append((role, role))
        return made

    def _orders(self, count: int) -> None:
        rng = random.Random(2026)
        actor = Actor.system("demo data")
        user_model = get_user_model()
        picker = user_model.objects.get(username=roles.PICKER)
        packer = user_model.objects.get(username=roles.PACKER)
        shipper = user_model.objects.get(username=roles.SHIPPER)
        statuses = list(STEPS_TO)
        skus = [p[0] for p in PRODUCTS]
        for i in range(count):
            email, name, street, city, postal, country = CUSTOMERS[i % len(CUSTOMERS)]
            address = services.AddressData(name=name, line1=street, city=city, postal_code=postal, country=country)
            status = statuses[i % len(statuses)]
            # Only orders that have not reached the warehouse may wait for the scarce product.
            waiting_allowed = status in (OrderStatus.UNHANDLED, OrderStatus.PAID, OrderStatus.CANCELLED)
            picked = rng.sample(skus if waiting_allowed else skus[:-1], rng.randint(1, 3))
            draft = services.OrderDraft(
                channel=rng.choice(list(SalesChannel.values)),
                external_reference=f"DEMO-{1000 + i}",
                currency="EUR",
                customer=services.CustomerData(email=email, name=name),
                shipping_address=address,
                lines=[services.LineData(sku=s, quantity=rng.randint(1, 3)) for s in picked],
                shipping_method=rng.choice(METHODS)[0],
                allow_backorder=True,
            )
            order = services.order_create(actor=actor, draft=draft).order
            order_walk_to(
                order=order,
                status=status,
                actor=actor,
                picker=picker,
                packer=packer,
                shipper=shipper,
                box=rng.choice(BOXES)[0],
            )
