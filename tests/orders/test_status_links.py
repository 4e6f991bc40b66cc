"""Revoking the status-page links sent to a customer: the service, its audit row, and the
admin action with its permission."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.status_links import order_for_token, status_link_token
from oms.common.errors import NotFound
from orders import services
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent
from tests.factories import SYSTEM, make_order, make_staff

pytestmark = pytest.mark.django_db


def test_revoking_invalidates_earlier_links_and_is_recorded_in_the_timeline() -> None:
    order = make_order(OrderStatus.PAID)
    old_token = status_link_token(order)

    revoked = services.order_revoke_status_links(actor=SYSTEM, number=order.number, reason="Forwarded by mistake")

    assert order_for_token(old_token) is None
    assert order_for_token(status_link_token(revoked)) == revoked
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.STATUS_LINKS_REVOKED)
    assert event.note == "Forwarded by mistake"
    assert event.data == {"status_link_version": 1}


def test_revoking_the_links_of_an_unknown_order_is_refused_and_changes_nothing() -> None:
    events = OrderEvent.objects.count()

    with pytest.raises(NotFound) as missing:
        services.order_revoke_status_links(actor=SYSTEM, number="OMS-NOPE")

    assert missing.value.code == "order_not_found"
    assert OrderEvent.objects.count() == events


def admin_revoke(username: str, role: str, order: Order) -> Client:
    user = make_staff(role, username)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    client.post(
        "/admin/orders/order/",
        {"action": "revoke_status_links", "_selected_action": [order.pk]},
        follow=True,
    )
    return client


def test_support_revokes_an_orders_links_from_the_admin() -> None:
    order = make_order(OrderStatus.PAID)

    admin_revoke("sue", "support", order)

    order.refresh_from_db()
    assert order.status_link_version == 1


def test_a_role_without_the_permission_cannot_revoke_links_from_the_admin() -> None:
    order = make_order(OrderStatus.PAID)

    admin_revoke("pete", "picker", order)

    order.refresh_from_db()
    assert order.status_link_version == 0
    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.STATUS_LINKS_REVOKED).exists()
