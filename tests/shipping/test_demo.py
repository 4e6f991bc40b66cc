from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from fulfillment.enums import PackageStatus
from fulfillment.models import Package
from inventory.models import Allocation, Reservation, StockMovement
from orders.enums import OrderStatus
from orders.models import Order

pytestmark = pytest.mark.django_db

WAREHOUSE_DONE = [OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.EXECUTED, OrderStatus.RETURNED]


def test_seed_demo_loads_orders_in_every_status_once(tmp_path) -> None:
    out = StringIO()
    call_command("seed_demo", orders=16, credentials_file=str(tmp_path / "demo.txt"), stdout=out)
    call_command("seed_demo", orders=16, credentials_file=str(tmp_path / "demo.txt"), stdout=out)

    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    assert Order.objects.count() == 16
    assert "Demo API key" in (tmp_path / "demo.txt").read_text()
    assert "already loaded" in out.getvalue()


def test_demo_orders_past_packing_were_picked_and_packed_for_real(tmp_path) -> None:
    call_command("seed_demo", orders=16, credentials_file=str(tmp_path / "demo.txt"), stdout=StringIO())

    done = list(Order.objects.filter(status__in=WAREHOUSE_DONE).values_list("number", flat=True))
    assert done
    assert not Allocation.objects.filter(reservation__order_number__in=done).exists()
    for number in done:
        units = sum(Reservation.objects.filter(order_number=number).values_list("quantity_picked", flat=True))
        picked = -sum(
            StockMovement.objects.filter(kind="pick", order_number=number).values_list("on_hand_delta", flat=True)
        )
        assert units == picked > 0
        packages = Package.objects.filter(order__number=number)
        assert packages and all(p.status == PackageStatus.CLOSED and p.weight_grams for p in packages)


def test_demo_orders_waiting_for_the_carrier_have_delivery_promises(tmp_path) -> None:
    call_command("seed_demo", orders=16, credentials_file=str(tmp_path / "demo.txt"), stdout=StringIO())

    waiting = Order.objects.filter(status__in=[OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED])
    assert waiting and all(o.ship_by and o.promised_delivery and o.promised_delivery >= o.ship_by for o in waiting)


def test_demo_orders_past_packing_have_labels_hand_over_and_tracking(tmp_path) -> None:
    from shipping.enums import LabelStatus, ShipmentStatus
    from shipping.models import Label, Shipment, TrackingEvent

    call_command("seed_demo", orders=16, credentials_file=str(tmp_path / "demo.txt"), stdout=StringIO())

    expected = {
        OrderStatus.PACKED: ShipmentStatus.LABELLED,
        OrderStatus.SHIPPED: ShipmentStatus.HANDED_OVER,
        OrderStatus.EXECUTED: ShipmentStatus.DELIVERED,
        OrderStatus.RETURNED: ShipmentStatus.RETURNED,
    }
    for order in Order.objects.filter(status__in=WAREHOUSE_DONE):
        shipment = Shipment.objects.get(order=order)
        assert shipment.status == expected[order.status], order.number
        assert Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE).count() == order.packages.count()
        if order.status != OrderStatus.PACKED:
            assert TrackingEvent.objects.filter(label__shipment=shipment).exists()
            assert not Label.objects.filter(shipment=shipment, scanned_out_at__isnull=True).exists()
    assert "Tracking webhook secret" in (tmp_path / "demo.txt").read_text()
