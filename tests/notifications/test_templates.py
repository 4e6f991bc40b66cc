"""The email templates rendered as the outbox renders them: a real order, the payload the
event put in the outbox, ``customer_context`` and ``render_email``. Every customer email
names its order and links to the order's signed status page; money and dates follow the
shop's locale; HTML escapes what customers typed, plain text keeps it as typed."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from notifications.email_context import customer_context
from notifications.enums import CUSTOMER_KINDS, NotificationKind
from notifications.rendering import RenderedEmail, render_email
from notifications.services.feedback import feedback_requests_emit
from notifications.status_links import order_for_token
from oms.common.models import OutboxMessage
from orders import services
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order
from returns.models import Return
from tests.factories import SYSTEM, make_order
from tests.notifications import return_helpers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

EMAIL_TASK = "notifications.tasks.email_customer"
K = NotificationKind
MISSING = "@@MISSING@@"
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")

# The order status each customer email is sent at, and the topic whose payload it gets.
SENT_AT: dict[str, tuple[str, str]] = {
    K.ORDER_RECEIVED: (OrderStatus.UNHANDLED, "order.created"),
    K.PAYMENT_CONFIRMED: (OrderStatus.PAID, "order.paid"),
    K.SHIPPED: (OrderStatus.SHIPPED, "order.shipped"),
    K.DELIVERED: (OrderStatus.EXECUTED, "order.executed"),
    K.CANCELLED: (OrderStatus.CANCELLED, "order.cancelled"),
    K.FEEDBACK_REQUEST: (OrderStatus.EXECUTED, "order.feedback_requested"),
}
# Emails about a return (RMA): the topic each is sent at, after the return was walked there.
RETURN_TOPICS: dict[str, tuple[str, Callable[[], Return]]] = {
    K.RETURN_REQUESTED: ("return.requested", lambda: return_helpers.requested(None, *return_helpers.BOTH)),
    K.RETURN_APPROVED: ("return.approved", lambda: return_helpers.approved(None, *return_helpers.BOTH)),
    K.RETURN_REJECTED: ("return.rejected", lambda: return_helpers.rejected("The mugs show signs of use & washing.")),
    K.RETURN_RECEIVED: ("return.received", lambda: return_helpers.received(None, *return_helpers.BOTH)),
}
# Emails that read differently in another situation: each case is checked like a kind.
RETURNED_TO_SENDER = f"{K.RETURN_RECEIVED}:returned-to-sender"
REFUND_OF_A_RETURN = f"{K.REFUND_ISSUED}:of-a-return"
CUSTOMER_CASES = [*sorted(CUSTOMER_KINDS), RETURNED_TO_SENDER, REFUND_OF_A_RETURN]


def kind_of(case: str) -> str:
    return case.partition(":")[0]


def strict_templates() -> Any:
    """Template settings that print a marker for every variable a template names but its
    context lacks (Django prints nothing by default, which would hide a typo)."""
    engine = copy.deepcopy(settings.TEMPLATES[0])
    engine["OPTIONS"]["string_if_invalid"] = MISSING
    return override_settings(TEMPLATES=[engine])


def email_payload(order: Order, topic: str) -> dict[str, Any]:
    """The payload the outbox handed the email task for ``topic`` (the newest one)."""
    message = (
        OutboxMessage.objects.filter(task=EMAIL_TASK, payload__topic=topic, payload__order=order.number)
        .order_by("-pk")
        .first()
    )
    assert message is not None, f"no {topic} email message for {order.number}"
    return dict(message.payload)


def shipped_order() -> Order:
    from tests.shipping.test_tracking import packed_in_two_boxes, shipped

    return shipped(packed_in_two_boxes())


def tracked(status: str, **extra: Any) -> tuple[Order, dict[str, Any]]:
    """A shipped order whose carrier reported ``status``, and the tracking payload."""
    from tests.shipping.test_tracking import T0, event, numbers, own_body, receive

    order = shipped_order()
    receive(own_body(event(numbers(order)[0], status, T0, **extra)))
    return order, email_payload(order, "shipment.tracking_updated")


def refunded(reason: str = "Damaged in transit") -> tuple[Order, dict[str, Any]]:
    order = make_order(OrderStatus.RETURNED)
    services.refund_record(
        actor=SYSTEM,
        number=order.number,
        amount=Decimal(order.total),
        method=PaymentMethod.CARD,
        reference=f"re-{order.number}",
        reason=reason,
    )
    order = Order.objects.get(pk=order.pk)
    return order, email_payload(order, "refund.issued")


def edited() -> tuple[Order, dict[str, Any]]:
    """A paid order of two items that staff cut down to one, and the ``order.updated`` payload."""
    order = make_order(OrderStatus.PAID, skus=("TSHIRT-RED-M", "MUG-350"))
    services.order_edit(actor=SYSTEM, number=order.number, lines=[services.LineData("TSHIRT-RED-M", 1)])
    order = Order.objects.get(pk=order.pk)
    return order, email_payload(order, "order.updated")


def order_and_payload(kind: str) -> tuple[Order, dict[str, Any]]:
    """A real order at the status ``kind`` (or case) is sent at, and the payload the email
    gets."""
    if kind in RETURN_TOPICS:
        topic, walk = RETURN_TOPICS[kind]
        ret = walk()
        return Order.objects.get(pk=ret.order_id), email_payload(ret.order, topic)
    if kind == RETURNED_TO_SENDER:
        order = make_order(OrderStatus.RETURNED)
        return order, email_payload(order, "order.returned")
    if kind == REFUND_OF_A_RETURN:
        ret = return_helpers.refunded(None, *return_helpers.BOTH)
        order = Order.objects.get(pk=ret.order_id)
        return order, email_payload(order, "refund.issued")
    if kind == K.OUT_FOR_DELIVERY:
        return tracked("out_for_delivery", location="Depot 2")
    if kind == K.DELAYED:
        return tracked("exception", description="Address unclear", location="Depot 2")
    if kind == K.REFUND_ISSUED:
        return refunded()
    if kind == K.ORDER_UPDATED:
        return edited()
    if kind == K.FEEDBACK_REQUEST:
        order = make_order(OrderStatus.EXECUTED)
        Order.objects.filter(pk=order.pk).update(executed_at=timezone.now() - timedelta(days=4))
        feedback_requests_emit()
        return Order.objects.get(pk=order.pk), email_payload(order, "order.feedback_requested")
    status, topic = SENT_AT[kind]
    order = shipped_order() if kind == K.SHIPPED else make_order(status)
    return order, email_payload(order, topic)


def render_customer(kind: str, order: Order, payload: dict[str, Any]) -> RenderedEmail:
    return render_email(kind, customer_context(kind, order, payload))


def assert_fully_rendered(email: RenderedEmail) -> None:
    for part in (email.subject, email.text, email.html):
        assert "{{" not in part and "{%" not in part and "}}" not in part
        assert MISSING not in part
    assert "\n\n\n" not in email.text  # no holes left by tags that rendered nothing


# --- every customer email --------------------------------------------------------------------


@pytest.mark.parametrize("case", CUSTOMER_CASES)
def test_customer_email_names_the_order_and_links_to_its_signed_status_page(case: str) -> None:
    kind = kind_of(case)
    order, payload = order_and_payload(case)

    email = render_customer(kind, order, payload)

    assert order.number in email.subject
    assert "\n" not in email.subject
    # A word of its own in the text (mail apps make it clickable), the same link in the HTML.
    (link,) = {word for word in email.text.split() if "/track/" in word}
    assert f'href="{link}"' in email.html
    site, _, rest = link.partition("/track/")
    assert site == settings.OMS_SITE_URL
    token = rest.removesuffix("/")
    opened = order_for_token(token)
    assert opened is not None and opened.pk == order.pk


@pytest.mark.parametrize("case", CUSTOMER_CASES)
def test_customer_email_renders_every_variable_it_names(case: str) -> None:
    kind = kind_of(case)
    order, payload = order_and_payload(case)

    with strict_templates():
        email = render_customer(kind, order, payload)

    assert_fully_rendered(email)
    assert email.html.startswith("<!DOCTYPE html>")
    assert not HTML_TAG.search(email.text)


@pytest.mark.parametrize("case", CUSTOMER_CASES)
def test_customer_email_escapes_markup_in_the_customer_name_in_html_only(case: str) -> None:
    kind = kind_of(case)
    order, payload = order_and_payload(case)
    order.customer_name = "<script>alert(1)</script> Tom & Jerry"

    email = render_customer(kind, order, payload)

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Tom &amp; Jerry" in email.html
    assert "<script>alert(1)</script> Tom & Jerry" in email.text
    assert "&amp;" not in email.text and "&lt;" not in email.text


def test_branding_comes_from_the_shop_settings() -> None:
    order, payload = order_and_payload(K.ORDER_RECEIVED)

    with override_settings(
        OMS_SHOP_NAME="Kestrel Outfitters",
        OMS_SHOP_LOGO_URL="https://cdn.example.com/kestrel.png",
        OMS_SUPPORT_EMAIL="help@kestrel.example.com",
        OMS_SUPPORT_PHONE="+48 22 100 20 30",
    ):
        email = render_customer(K.ORDER_RECEIVED, order, payload)

    assert '<img src="https://cdn.example.com/kestrel.png" alt="Kestrel Outfitters"' in email.html
    assert 'href="mailto:help@kestrel.example.com"' in email.html
    assert 'href="tel:+48221002030"' in email.html
    for part in (email.text, email.html):
        assert "Kestrel Outfitters" in part
        assert "help@kestrel.example.com" in part
        assert "+48 22 100 20 30" in part


def test_without_a_logo_the_shop_name_heads_the_email_and_no_image_is_loaded() -> None:
    order, payload = order_and_payload(K.ORDER_RECEIVED)

    with override_settings(OMS_SHOP_NAME="Kestrel Outfitters", OMS_SHOP_LOGO_URL=""):
        email = render_customer(K.ORDER_RECEIVED, order, payload)

    assert "<img" not in email.html
    assert "Kestrel Outfitters" in email.html


def test_money_and_days_follow_the_shop_locale() -> None:
    order, payload = order_and_payload(K.PAYMENT_CONFIRMED)
    order.total = order.amount_paid = Decimal("1234.50")
    order.promised_delivery = date(2026, 3, 24)

    with override_settings(OMS_SHOP_LOCALE="de_DE"):
        german = render_customer(K.PAYMENT_CONFIRMED, order, payload)
    with override_settings(OMS_SHOP_LOCALE="en_US"):
        american = render_customer(K.PAYMENT_CONFIRMED, order, payload)

    for part in (german.text, german.html):
        assert "1.234,50\xa0€" in part
        assert "24.03.2026" in part
    for part in (american.text, american.html):
        assert "€1,234.50" in part
        assert "Mar 24, 2026" in part


def test_order_received_lists_the_lines_and_totals() -> None:
    order, payload = order_and_payload(K.ORDER_RECEIVED)

    email = render_customer(K.ORDER_RECEIVED, order, payload)

    line = order.lines.get()
    for part in (email.text, email.html):
        assert line.name in part and line.sku in part
        assert "€29.90" in part  # the line
        assert "€4.99" in part  # shipping
        assert "€34.89" in part  # total


def test_order_received_asks_for_payment_while_the_order_is_unpaid() -> None:
    order, payload = order_and_payload(K.ORDER_RECEIVED)

    unpaid = render_customer(K.ORDER_RECEIVED, order, payload)
    order.amount_paid = order.total
    paid = render_customer(K.ORDER_RECEIVED, order, payload)

    assert "Amount due: €34.89" in unpaid.text
    assert "Amount due" not in paid.text and "Amount due" not in paid.html


def test_payment_confirmed_says_the_invoice_is_attached() -> None:
    order, payload = order_and_payload(K.PAYMENT_CONFIRMED)

    email = render_customer(K.PAYMENT_CONFIRMED, order, payload)

    for part in (email.text, email.html):
        assert "invoice is attached" in part
        assert "€34.89" in part


def test_shipped_names_the_carrier_each_parcel_with_its_tracking_link_and_the_promised_day() -> None:
    order, payload = order_and_payload(K.SHIPPED)
    order.promised_delivery = date(2026, 3, 5)

    context = customer_context(K.SHIPPED, order, payload)
    email = render_email(K.SHIPPED, context)

    assert len(context["parcels"]) == 2
    assert context["carrier_name"] in email.text and context["carrier_name"] in email.html
    for parcel in context["parcels"]:
        assert parcel["tracking_number"] in email.text and parcel["url"] in email.text.split()
        assert f'<a href="{parcel["url"]}" target="_blank" style="color:#1d4ed8;">{parcel["tracking_number"]}</a>' in (
            email.html
        )
    assert "Expected delivery: Mar 5, 2026" in email.text
    assert "Mar 5, 2026" in email.html


def test_out_for_delivery_shows_the_latest_scan() -> None:
    order, payload = order_and_payload(K.OUT_FOR_DELIVERY)

    email = render_customer(K.OUT_FOR_DELIVERY, order, payload)

    assert "out for delivery" in email.subject
    for part in (email.text, email.html):
        assert "should arrive today" in part
        assert "Depot 2" in part


def test_delayed_quotes_the_carriers_message() -> None:
    order, payload = order_and_payload(K.DELAYED)

    email = render_customer(K.DELAYED, order, payload)

    assert "problem with the delivery" in email.subject
    assert "Address unclear" in email.text
    assert "Address unclear" in email.html


def test_delayed_says_what_the_carrier_reported_in_its_own_words() -> None:
    attempted_order, attempted = tracked("attempted_delivery", description="Nobody at home")
    attempted_email = render_customer(K.DELAYED, attempted_order, attempted)
    late_order, late = tracked("delayed")
    late_email = render_customer(K.DELAYED, late_order, late)

    assert attempted_email.subject == f"We could not deliver your order {attempted_order.number}"
    assert "Nobody at home" in attempted_email.text
    assert late_email.subject == f"Your order {late_order.number} is running late"
    assert "The carrier's message: Delayed" in late_email.text  # no description: the status


def test_cancelled_tells_whether_money_comes_back() -> None:
    unpaid_order, unpaid = order_and_payload(K.CANCELLED)
    unpaid_email = render_customer(K.CANCELLED, unpaid_order, unpaid)
    paid_order = make_order(OrderStatus.PAID)
    services.order_cancel(actor=SYSTEM, number=paid_order.number, reason="Out of stock at the supplier")
    paid_order = Order.objects.get(pk=paid_order.pk)
    paid_email = render_customer(K.CANCELLED, paid_order, email_payload(paid_order, "order.cancelled"))

    assert "You have not been charged" in unpaid_email.text
    assert "You paid €34.89" in paid_email.text
    assert "email you when the refund is issued" in paid_email.text


def test_refund_issued_shows_the_amount_and_the_reason() -> None:
    order, payload = order_and_payload(K.REFUND_ISSUED)

    email = render_customer(K.REFUND_ISSUED, order, payload)

    assert email.subject == f"Refund of €34.89 for your order {order.number}"
    for part in (email.text, email.html):
        assert "refunded" in part and "€34.89" in part
        assert "Reason: Damaged in transit" in part


def test_refund_issued_without_a_reason_gives_none() -> None:
    order, payload = refunded(reason="")

    email = render_customer(K.REFUND_ISSUED, order, payload)

    assert "Reason" not in email.text and "Reason" not in email.html


def test_a_part_refund_says_how_much_was_refunded_in_all() -> None:
    order = make_order(OrderStatus.RETURNED)
    for reference, amount in (("re-a", "10.00"), ("re-b", "5.00")):
        services.refund_record(
            actor=SYSTEM, number=order.number, amount=Decimal(amount), method=PaymentMethod.CARD, reference=reference
        )
    order = Order.objects.get(pk=order.pk)

    email = render_customer(K.REFUND_ISSUED, order, email_payload(order, "refund.issued"))

    assert "we have refunded €5.00" in email.text
    assert "In all, we have refunded €15.00 of the €34.89 you paid." in email.text


# --- staff alerts ----------------------------------------------------------------------------

STOCK_URL = "http://localhost:8000/admin/inventory/stocklevel/?q=MUG-350"
LABELS_URL = "http://localhost:8000/staff/labels/"


def low_stock(*skus: str) -> dict[str, Any]:
    return {
        "alerts": [
            {
                "sku": sku,
                "name": f"Salt & pepper mill {sku}",
                "warehouse": "MAIN",
                "available": 3,
                "reorder_point": 10,
                "reorder_quantity": 40,
            }
            for sku in skus
        ],
        "stock_url": STOCK_URL,
    }


def label_failed() -> dict[str, Any]:
    return {
        "order_number": "OMS-000123",
        "package": 2,
        "carrier": "FLEET",
        "error": "Postal code <00-01> is not valid",
        "labels_url": LABELS_URL,
    }


def late_orders() -> dict[str, Any]:
    row = {
        "status": OrderStatus.PAID,
        "status_label": "Paid",
        "customer_name": "Tom & Jerry",
        "promised_delivery": None,
    }
    return {
        "day": date(2026, 3, 2),
        "orders": [
            {**row, "number": "OMS-000101", "ship_by": date(2026, 2, 27), "days_late": 3, "url": "http://x/101/"},
            {**row, "number": "OMS-000102", "ship_by": date(2026, 3, 1), "days_late": 1, "url": "http://x/102/"},
        ],
    }


STAFF_CONTEXTS = {
    K.STAFF_LOW_STOCK: lambda: low_stock("MUG-350"),
    K.STAFF_LABEL_FAILED: label_failed,
    K.STAFF_LATE_ORDERS: late_orders,
}


@pytest.mark.parametrize("kind", sorted(STAFF_CONTEXTS))
def test_staff_alert_renders_every_variable_of_its_context(kind: str) -> None:
    with strict_templates():
        email = render_email(kind, STAFF_CONTEXTS[kind]())

    assert_fully_rendered(email)
    assert not HTML_TAG.search(email.text)
    assert "Questions?" not in email.html  # the customers' support line is not for staff


def test_low_stock_alert_names_the_sku_warehouse_and_what_is_left() -> None:
    email = render_email(K.STAFF_LOW_STOCK, low_stock("MUG-350"))

    assert email.subject == "Low stock: MUG-350 at MAIN (3 left)"
    assert STOCK_URL in email.text.split()
    assert f'href="{STOCK_URL}"' in email.html
    assert "Salt & pepper mill MUG-350" in email.text
    assert "Salt &amp; pepper mill MUG-350" in email.html


def test_low_stock_alert_of_several_skus_counts_them() -> None:
    email = render_email(K.STAFF_LOW_STOCK, low_stock("MUG-350", "TEE-RED-M", "CAP-BLK"))

    assert email.subject == "Low stock: 3 SKUs at or below their reorder point"
    for sku in ("MUG-350", "TEE-RED-M", "CAP-BLK"):
        assert sku in email.text and sku in email.html


def test_label_failed_alert_quotes_the_carriers_error_and_links_to_the_labels() -> None:
    email = render_email(K.STAFF_LABEL_FAILED, label_failed())

    assert email.subject == "Label failed for order OMS-000123, package 2"
    assert "Postal code <00-01> is not valid" in email.text
    assert "Postal code &lt;00-01&gt; is not valid" in email.html
    assert LABELS_URL in email.text.split() and f'href="{LABELS_URL}"' in email.html


def test_late_orders_digest_lists_each_order_with_its_link_and_days_late() -> None:
    email = render_email(K.STAFF_LATE_ORDERS, late_orders())

    assert email.subject == "Late orders on Mar 2, 2026: 2"
    assert "OMS-000101: 3 days late, Paid" in email.text
    assert "OMS-000102: 1 day late, Paid" in email.text
    assert "Tom & Jerry" in email.text and "Tom &amp; Jerry" in email.html
    for url in ("http://x/101/", "http://x/102/"):
        assert url in email.text.split() and f'href="{url}"' in email.html
