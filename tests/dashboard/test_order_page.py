"""The order page: every section of a shipped order, a fixed number of queries however long
the order, the actions each role is offered, the server refusing what a role may not do,
confirmation before what cannot be undone, and changing an order before picking."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.selectors.orders import TIMELINE_LIMIT
from inventory.models import Reservation
from notifications.email_context import customer_context
from notifications.enums import NotificationKind, WebhookEventType
from notifications.models import Notification, WebhookDelivery
from notifications.rendering import render_email
from notifications.services.emails import notification_prepare
from notifications.services.webhooks import webhook_publish, webhook_subscription_create
from oms.common.actors import Actor
from oms.common.models import OutboxMessage
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, OrderLine, Refund
from orders.services import order_revoke_status_links
from tests.factories import SYSTEM, ProductFactory, make_order, make_staff, stock_up

pytestmark = pytest.mark.django_db

PUBLISH_TASK = "notifications.tasks.publish_webhook_event"


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(make_staff(role))
    return client


def url(number: str, action: str = "") -> str:
    return f"/staff/orders/{number}/" + (f"{action}/" if action else "")


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def shipped_order_with_everything() -> Order:
    """A shipped order with a live label, a carrier scan, a customer email and a webhook
    delivery, all made by the real services."""
    from tests.shipping.test_tracking import T0, event, labelled, numbers, own_body, receive

    webhook_subscription_create(
        name="ERP", url="https://erp.example.com/hooks", event_types=[t.value for t in WebhookEventType]
    )
    order = labelled()
    from tests.shipping.test_tracking import hand_over

    order = hand_over(order)
    receive(own_body(event(numbers(order)[0], "in_transit", T0, location="Depot 2", description="Sorted")))
    for message in OutboxMessage.objects.filter(task=PUBLISH_TASK, payload__order=order.number):
        webhook_publish(message.payload, 1)
    shipped = OutboxMessage.objects.filter(payload__topic="order.shipped", payload__order=order.number).first()
    assert shipped is not None
    notification_prepare(
        key=f"email:shipped:{order.number}",
        kind=NotificationKind.SHIPPED,
        recipients=[order.customer_email],
        rendered=render_email(NotificationKind.SHIPPED, customer_context(NotificationKind.SHIPPED, order, {})),
        order=order,
    )
    return Order.objects.get(pk=order.pk)


def test_the_page_of_a_shipped_order_shows_every_section() -> None:
    order = shipped_order_with_everything()
    tracking_number = order.shipment.labels.get().tracking_number

    response = client_for("manager").get(url(order.number))

    assert response.status_code == 200
    html = response.content.decode()
    page = response.context["page"]
    for text in (
        f"Order {order.number}",
        "Shipped",
        order.customer_name,
        order.customer_email,
        "Main St 1",
        "Items",
        "Payments and refunds",
        f"card-{order.number}",
        "Packages and labels",
        f'href="https://track.example/{tracking_number}"',
        f'href="/staff/labels/{order.number}/"',
        "Tracking events",
        "Depot 2: Sorted",
        "Emails",
        f'href="/staff/notifications/{Notification.objects.get(order=order).pk}/"',
        f'href="/staff/orders/{order.number}/notifications/"',
        "Webhook deliveries",
        "order.status_changed",
        "Timeline",
        "Packed → Shipped",
        "Shipment: ",
    ):
        assert text in html, text
    assert [row.line.sku for row in page.lines] == list(order.lines.values_list("sku", flat=True))
    assert page.lines[0].picked == page.lines[0].line.quantity
    assert {d.event.type for d in page.deliveries} >= {"order.status_changed", "order.created"}
    assert len(page.deliveries) == WebhookDelivery.objects.filter(subscription__name="ERP").count()
    sources = {entry.source for entry in page.timeline}
    assert sources >= {"order", "shipment"}
    assert all(a.at >= b.at for a, b in zip(page.timeline, page.timeline[1:], strict=False))
    who = {entry.who for entry in page.timeline}
    assert SYSTEM.label in who


def test_the_page_reads_in_the_same_number_of_queries_however_long_the_order() -> None:
    shipped = shipped_order_with_everything()
    small = make_order(OrderStatus.PAID)
    skus = [f"BULK-{i:02d}" for i in range(15)]
    for sku in skus:
        ProductFactory(sku=sku)
        stock_up(sku, 5, location=f"C-{sku}")
    big = make_order(OrderStatus.PAID, skus=tuple(skus))
    actor = Actor.for_user(make_staff("manager"))
    for _ in range(TIMELINE_LIMIT + 10):
        order_revoke_status_links(actor=actor, number=big.number, reason="test")
    client = client_for("manager")
    client.get(url(small.number))  # the session and permission caches warm up

    counts = {}
    for name, order in (("small", small), ("big", big), ("shipped", shipped)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(order.number))
        assert response.status_code == 200
        counts[name] = len(queries)
        if name == "big":
            page = response.context["page"]
            assert len(page.lines) == 15 and len(page.timeline) == TIMELINE_LIMIT and page.timeline_more

    assert counts["big"] == counts["small"], counts
    assert counts["shipped"] <= 22, counts  # session, user, permissions, then 18 reads


@pytest.mark.parametrize(
    ("status", "role", "offered", "not_offered"),
    [
        (
            OrderStatus.UNHANDLED,
            "support",
            {"cancel", "record_payment", "edit", "revoke_links"},
            {"refund", "start_picking"},
        ),
        (
            OrderStatus.PAID,
            "support",
            {"cancel", "edit", "revoke_links"},
            {"refund", "record_payment", "start_picking"},
        ),
        (
            OrderStatus.PAID,
            "manager",
            {"cancel", "edit", "refund", "start_picking"},
            {"abort_picking", "mark_returned"},
        ),
        (OrderStatus.PAID, "picker", {"start_picking"}, {"cancel", "edit", "refund", "record_payment"}),
        (OrderStatus.PICKING, "picker", {"abort_picking"}, {"cancel", "start_picking", "edit"}),
        (OrderStatus.PICKING, "manager", {"abort_picking", "refund"}, {"cancel", "edit", "start_picking"}),
        (
            OrderStatus.SHIPPED,
            "manager",
            {"mark_returned", "refund", "revoke_links"},
            {"cancel", "edit", "abort_picking"},
        ),
        (OrderStatus.CANCELLED, "manager", {"revoke_links"}, {"cancel", "edit", "record_payment", "mark_returned"}),
    ],
)
def test_only_actions_valid_for_the_status_and_the_role_are_offered(
    status: str, role: str, offered: set[str], not_offered: set[str]
) -> None:
    order = make_order(status)

    response = client_for(role).get(url(order.number))

    names = response.context["page"].action_names
    assert offered <= names, names
    assert not (not_offered & names), names
    html = response.content.decode()
    for name, path in (("cancel", "cancel"), ("refund", "refund"), ("edit", "edit")):
        assert (f'{url(order.number, path)}"' in html) == (name in names), name


def test_support_may_not_refund_the_server_refuses_and_nothing_changes() -> None:
    order = make_order(OrderStatus.PAID)
    body = {"amount": "10.00", "method": "card", "reference": "re-1", "reason": "goodwill", "confirmed": "yes"}

    response = client_for("support").post(url(order.number, "refund"), body)

    assert response.status_code == 403
    assert not Refund.objects.exists()
    assert Order.objects.values_list("amount_refunded", flat=True).get(pk=order.pk) == Decimal("0.00")


def test_a_picker_may_not_cancel_the_server_refuses_and_nothing_changes() -> None:
    order = make_order(OrderStatus.PAID)
    events = OrderEvent.objects.filter(order=order).count()

    response = client_for("picker").post(url(order.number, "cancel"), {"reason": "no", "confirmed": "yes"})

    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert OrderEvent.objects.filter(order=order).count() == events


def test_cancelling_asks_for_confirmation_first_then_cancels() -> None:
    order = make_order(OrderStatus.PAID)
    client = client_for("support")

    first = client.post(url(order.number, "cancel"), {"reason": "Customer changed their mind"})

    assert first.status_code == 200
    assert "Are you sure?" in first.content.decode() and "cannot be reopened" in first.content.decode()
    assert 'name="confirmed" value="yes"' in first.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID

    second = client.post(url(order.number, "cancel"), {"reason": "Customer changed their mind", "confirmed": "yes"})

    assert second.status_code == 302 and second["Location"] == url(order.number)
    cancelled = Order.objects.get(pk=order.pk)
    assert (cancelled.status, cancelled.cancel_reason) == (OrderStatus.CANCELLED, "Customer changed their mind")
    assert not Reservation.objects.filter(order_number=order.number).exists()
    assert messages_of(second) == [
        f"Order {order.number} is cancelled; its stock is free again and the customer is told."
    ]


def test_cancelling_without_a_reason_says_so_and_changes_nothing() -> None:
    order = make_order(OrderStatus.PAID)

    response = client_for("support").post(url(order.number, "cancel"), {"reason": "  ", "confirmed": "yes"})

    assert response.status_code == 302
    assert messages_of(response) == [
        "Why is it cancelled?: Say why the order is cancelled; the customer and the timeline see it."
    ]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_refused_action_shows_the_services_sentence_and_changes_nothing() -> None:
    order = make_order(OrderStatus.SHIPPED)
    events = OrderEvent.objects.filter(order=order).count()

    response = client_for("manager").post(url(order.number, "cancel"), {"reason": "late", "confirmed": "yes"})

    assert response.status_code == 302
    (message,) = messages_of(response)
    assert message.startswith(f"Order {order.number} is shipped and cannot become cancelled")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert OrderEvent.objects.filter(order=order).count() == events


def test_an_unknown_order_is_a_404_page_with_a_sentence() -> None:
    response = client_for("support").get(url("OMS-999999"))

    assert response.status_code == 404
    assert "There is no order OMS-999999. Check the number" in response.content.decode()


def test_recording_a_payment_pays_an_unhandled_order() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    body = {"amount": str(order.total), "method": "bank_transfer", "reference": "TR-77"}

    response = client_for("support").post(url(order.number, "payment"), body)

    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert messages_of(response) == [f"Payment of {order.total} EUR recorded: order {order.number} is paid."]


# --- changing an order ----------------------------------------------------------------------


def edit_body(order: Order, **changes: Any) -> dict[str, Any]:
    address = order.shipping_address
    body: dict[str, Any] = {
        "name": address.name,
        "company": "",
        "line1": address.line1,
        "line2": "",
        "postal_code": address.postal_code,
        "city": address.city,
        "region": "",
        "country": str(address.country),
        "phone": "",
        "shipping_method": order.shipping_method_id,
        "add_sku": "",
        "add_quantity": "",
        "note": "",
    }
    for line in order.lines.all():
        body[f"qty_{line.pk}"] = line.quantity
    body.update(changes)
    return body


def test_the_edit_form_changes_quantities_and_the_order_page_shows_it() -> None:
    order = make_order(OrderStatus.PAID)
    stock_up("TSHIRT-RED-M", 5)
    line = order.lines.get()
    client = client_for("support")
    form = client.get(url(order.number, "edit"))
    assert form.status_code == 200 and f'for="id_qty_{line.pk}"' in form.content.decode()

    response = client.post(url(order.number, "edit"), edit_body(order, **{f"qty_{line.pk}": 3}))

    assert response.status_code == 302 and response["Location"] == url(order.number)
    assert OrderLine.objects.get(pk=line.pk).quantity == 3
    assert Order.objects.get(pk=order.pk).total == Decimal("94.69")
    (message,) = messages_of(response)
    assert "the customer is emailed what changed" in message and "59.80 EUR more is due" in message
    assert OutboxMessage.objects.filter(payload__topic="order.updated", payload__order=order.number).exists()
    page = client.get(url(order.number))
    assert "quantity changed from 1 to 3" in page.content.decode()
    assert "59.80 EUR more is due" in page.content.decode()


def test_editing_after_picking_started_is_refused_with_a_sentence_and_nothing_changes() -> None:
    order = make_order(OrderStatus.PICKING)
    line = order.lines.get()
    events = OrderEvent.objects.filter(order=order).count()
    client = client_for("manager")

    response = client.post(url(order.number, "edit"), edit_body(order, **{f"qty_{line.pk}": 2}))

    assert response.status_code == 409
    assert f"Order {order.number} is picking: an order can be changed only before picking starts" in (
        response.content.decode()
    )
    assert OrderLine.objects.get(pk=line.pk).quantity == 1
    assert OrderEvent.objects.filter(order=order).count() == events
    assert client.get(url(order.number, "edit")).status_code == 302


def test_an_unknown_sku_in_the_edit_form_is_refused_and_nothing_changes() -> None:
    order = make_order(OrderStatus.PAID)
    before = list(OrderLine.objects.filter(order=order).values_list("sku", "quantity"))

    response = client_for("support").post(url(order.number, "edit"), edit_body(order, add_sku="NOPE-9", add_quantity=1))

    assert response.status_code == 400
    assert "There is no product with SKU NOPE-9; check the SKU." in response.content.decode()
    assert list(OrderLine.objects.filter(order=order).values_list("sku", "quantity")) == before
    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.EDITED).exists()


def test_a_role_without_the_edit_permission_cannot_open_or_post_the_form() -> None:
    order = make_order(OrderStatus.PAID)
    client = client_for("packer")

    assert client.get(url(order.number, "edit")).status_code == 403
    assert client.post(url(order.number, "edit"), edit_body(order)).status_code == 403
