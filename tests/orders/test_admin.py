from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from oms.common.models import ApiClient
from orders.enums import OrderEventKind, OrderStatus
from orders.models import OrderEvent
from tests.factories import make_order, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_the_order_pages_show_lines_payments_and_timeline_read_only(admin_client_logged_in) -> None:
    order = make_order(OrderStatus.PAID)

    listing = admin_client_logged_in.get("/admin/orders/order/")
    detail = admin_client_logged_in.get(f"/admin/orders/order/{order.pk}/change/")

    assert listing.status_code == 200 and order.number in listing.text
    assert detail.status_code == 200
    assert "TSHIRT-RED-M" in detail.text and f"card-{order.number}" in detail.text
    assert 'name="status"' not in detail.text  # no editable status anywhere


def test_an_admin_action_changes_state_through_the_service_and_audits_it(admin_client_logged_in) -> None:
    order = make_order(OrderStatus.PAID)

    response = admin_client_logged_in.post(
        "/admin/orders/order/", {"action": "cancel", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert response.status_code == 200
    assert order.status == OrderStatus.CANCELLED
    event = OrderEvent.objects.filter(order=order, kind=OrderEventKind.STATUS_CHANGED).last()
    assert (event.actor_label, event.to_status) == ("boss", OrderStatus.CANCELLED)


def test_an_admin_action_refused_by_the_lifecycle_says_why_and_changes_nothing(admin_client_logged_in) -> None:
    order = make_order(OrderStatus.UNHANDLED)

    response = admin_client_logged_in.post(
        "/admin/orders/order/", {"action": "mark_shipped", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.UNHANDLED
    assert "cannot become shipped" in response.text


def test_an_admin_action_needs_the_role_that_grants_it(client) -> None:
    picker = make_staff("picker")
    client.force_login(picker)
    order = make_order(OrderStatus.PAID)

    client.post("/admin/orders/order/", {"action": "cancel", "_selected_action": [order.pk]}, follow=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_creating_an_api_client_in_the_admin_shows_its_key_once(admin_client_logged_in) -> None:
    response = admin_client_logged_in.post("/admin/common/apiclient/add/", {"name": "erp"}, follow=True)

    client = ApiClient.objects.get(name="erp")
    assert f"oms_{client.key_prefix}_" in response.text
    assert client.user.groups.filter(name="integrator").exists()


@pytest.mark.parametrize(
    "page",
    ["warehouse", "location", "reorderrule", "stocklevel", "stockmovement", "lowstockalert", "cyclecount"],
)
def test_the_inventory_admin_pages_render(admin_client_logged_in, page) -> None:
    make_order(OrderStatus.PAID)

    response = admin_client_logged_in.get(f"/admin/inventory/{page}/")

    assert response.status_code == 200
