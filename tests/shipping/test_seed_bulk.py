"""``seed_demo --orders N`` past the 40 orders made through the services: a year of history
loaded in bulk plus open orders placed through the services. One load (300 orders) is
shared by the module, inside a transaction rolled back at its end; each test runs in a
savepoint of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone

from fulfillment.models import Package
from inventory.models import Reservation
from oms.common.actors import Actor
from orders import services
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, OrderLine, Refund
from shipping.bulk_demo.tables import TABLES
from shipping.demo import order_walk_to
from shipping.enums import LabelStatus
from shipping.models import Carrier, Label, Shipment
from shipping.tracking_numbers import is_valid

ORDERS = 300
# The stage times each status has, in the order they happen.
STAGES = ["created_at", "paid_at", "picking_at", "packed_at", "shipped_at", "executed_at", "returned_at"]
REACHED = {
    OrderStatus.UNHANDLED: 1,
    OrderStatus.PAID: 2,
    OrderStatus.PICKING: 3,
    OrderStatus.PACKED: 4,
    OrderStatus.SHIPPED: 5,
    OrderStatus.EXECUTED: 6,
}
CARRIER_HAS_IT = [OrderStatus.SHIPPED, OrderStatus.EXECUTED, OrderStatus.RETURNED]


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            credentials = tmp_path_factory.mktemp("seed") / "demo.txt"
            call_command("seed_demo", orders=ORDERS, credentials_file=str(credentials), stdout=out)
            with connection.cursor() as cursor:
                # Foreign keys are checked at commit, which never comes here: check them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_loads_exactly_the_orders_asked_for_in_every_status(seeded: str) -> None:
    statuses = Counter(Order.objects.values_list("status", flat=True))

    assert sum(statuses.values()) == ORDERS
    assert set(statuses) == set(OrderStatus.values)
    assert statuses[OrderStatus.EXECUTED] > ORDERS / 2  # a live shop: most orders are done
    assert f"Loaded {ORDERS} demo orders" in seeded


def test_a_second_run_loads_nothing(tmp_path) -> None:
    out = StringIO()

    call_command("seed_demo", orders=50, credentials_file=str(tmp_path / "demo.txt"), stdout=out)

    assert "already loaded" in out.getvalue()
    assert Order.objects.count() == ORDERS


def test_money_adds_up_on_every_order() -> None:
    line_total = ExpressionWrapper(F("unit_price") * F("quantity"), output_field=DecimalField())
    lines = dict(OrderLine.objects.values("order_id").annotate(s=Sum(line_total)).values_list("order_id", "s"))
    refunds = dict(Refund.objects.values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s"))

    for order in Order.objects.all():
        assert order.subtotal == lines[order.pk], order.number
        assert order.total == order.subtotal + order.shipping_price, order.number
        assert order.amount_paid == (order.total if order.paid_at else Decimal("0")), order.number
        assert order.amount_refunded == refunds.get(order.pk, Decimal("0")), order.number


def test_stage_times_follow_each_other_as_far_as_the_status_reached() -> None:
    for order in Order.objects.all():
        if order.status == OrderStatus.CANCELLED:
            assert order.cancelled_at and order.cancelled_at >= (order.paid_at or order.created_at), order.number
            assert order.picking_at is None, order.number
            continue
        reached = REACHED.get(order.status)
        if reached is None:  # returned: after delivery, or back to the sender before it
            reached = 7
            assert order.returned_at is not None, order.number
        times = [getattr(order, stage) for stage in STAGES[:reached]]
        if order.status == OrderStatus.RETURNED and order.executed_at is None:
            times.remove(None)
        assert None not in times, order.number
        assert times == sorted(times), order.number
        assert all(getattr(order, stage) is None for stage in STAGES[reached:]), order.number
        assert order.cancelled_at is None, order.number


def test_paid_orders_have_a_delivery_promise_some_missed() -> None:
    paid = Order.objects.filter(paid_at__isnull=False)

    assert all(o.ship_by and o.promised_delivery and o.promised_delivery > o.ship_by for o in paid)
    assert not Order.objects.filter(paid_at__isnull=True, ship_by__isnull=False).exists()
    shipped = paid.filter(shipped_at__isnull=False)
    late = [o for o in shipped if o.shipped_at.date() > o.ship_by]
    assert late and len(late) < shipped.count() / 5


def test_every_timeline_starts_with_creation_and_ends_in_the_status() -> None:
    events: dict[int, list[OrderEvent]] = {}
    for event in OrderEvent.objects.order_by("created_at", "id"):
        events.setdefault(event.order_id, []).append(event)

    for order in Order.objects.all():
        timeline = events[order.pk]
        assert timeline[0].kind == OrderEventKind.CREATED, order.number
        assert timeline[0].created_at >= order.created_at, order.number
        moves = [e for e in timeline if e.kind == OrderEventKind.STATUS_CHANGED]
        chain = [OrderStatus.UNHANDLED] + [m.to_status for m in moves]
        assert [m.from_status for m in moves] == chain[: len(moves)], order.number
        assert (moves[-1].to_status if moves else OrderStatus.UNHANDLED) == order.status, order.number


def test_orders_with_the_carrier_have_a_shipment_and_one_live_label_with_a_valid_unique_number() -> None:
    numbers = list(Label.objects.values_list("tracking_number", flat=True))
    now = timezone.now()

    assert len(numbers) == len(set(numbers))
    for order in Order.objects.filter(status__in=CARRIER_HAS_IT):
        shipment = Shipment.objects.get(order=order)
        packages = Package.objects.filter(order=order)
        live = Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE)
        assert packages.exists() and live.count() == packages.count(), order.number
        assert all(label.tracking_number and is_valid(label.tracking_number) for label in live), order.number
        assert shipment.handed_over_at and all(label.scanned_out_at for label in live), order.number
        if shipment.handed_over_at < now - timedelta(hours=4):  # the first scan comes within hours
            assert live.filter(tracking_events__isnull=False).exists(), order.number


def test_orders_placed_after_the_load_get_fresh_numbers_ids_and_tracking_numbers() -> None:
    carrier = Carrier.objects.get(code="FLEET")
    serial_before = carrier.last_serial
    numbers_before = set(Label.objects.values_list("tracking_number", flat=True))
    highest = max(Order.objects.values_list("id", flat=True))
    actor = Actor.system("test")
    draft = services.OrderDraft(
        channel="web",
        currency="EUR",
        customer=services.CustomerData(email="after@example.com", name="After Load"),
        shipping_address=services.AddressData(
            name="After Load", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL"
        ),
        lines=[services.LineData(sku="MUG-LOGO", quantity=1)],
        shipping_method="standard",
    )

    order = services.order_create(actor=actor, draft=draft).order
    users = get_user_model().objects.in_bulk(["picker", "packer", "shipper"], field_name="username")
    order_walk_to(
        order=order, status=OrderStatus.SHIPPED, actor=actor,
        picker=users["picker"], packer=users["packer"], shipper=users["shipper"], box="BOX-S",
    )  # fmt: skip

    assert order.pk > highest
    assert Order.objects.filter(number=order.number).count() == 1
    label = Label.objects.get(shipment__order=order, status=LabelStatus.LIVE)
    assert label.tracking_number not in numbers_before
    assert Carrier.objects.get(pk=carrier.pk).last_serial == serial_before + 1


def test_every_table_sequence_is_past_its_rows() -> None:
    with connection.cursor() as cursor:
        for model, _columns in TABLES:
            table = model._meta.db_table
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            assert cursor.fetchone()[0] > highest, table


def test_open_orders_hold_their_stock_through_the_services() -> None:
    open_numbers = set(
        Order.objects.filter(status__in=[OrderStatus.UNHANDLED, OrderStatus.PAID]).values_list("number", flat=True)
    )
    done_numbers = set(Order.objects.filter(status__in=CARRIER_HAS_IT).values_list("number", flat=True))

    reserved = set(Reservation.objects.values_list("order_number", flat=True))
    assert open_numbers <= reserved
    history = done_numbers - reserved  # history holds no stock: no reservation at all
    assert history and not Reservation.objects.filter(order_number__in=history).exists()
