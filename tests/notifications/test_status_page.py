"""The customer's order-status page behind the signed link in every email: what it shows,
what it keeps back (links get forwarded), the one answer to every bad link, the invoice
through the link, the headers that keep it private, and its cost in queries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications import formatting
from notifications.customer_views import status_timeline
from notifications.status_links import status_link_path, status_link_token
from orders import services
from orders.demo import order_walk_to
from orders.enums import OrderStatus
from orders.invoice_pdf import invoice_pdf
from orders.models import Order
from orders.services import invoice_issue, order_set_promise
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory, make_order, stock_up
from tests.shipping.test_tracking import event, hand_over, labelled, numbers, own_body, packed_in_two_boxes, receive

pytestmark = pytest.mark.django_db

S = OrderStatus
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def private_order(status: str = S.PAID) -> Order:
    """An order whose customer details must not show on a page anyone with the link can open."""
    ShippingMethodFactory()
    ProductFactory(sku="MUG-BLUE", name="Blue mug", price="12.50")
    stock_up("MUG-BLUE", 10)
    draft = services.OrderDraft(
        channel="web",
        currency="EUR",
        customer=services.CustomerData(email="zoe.private@example.com", name="Zoë Ødegård", phone="+48 600 100 200"),
        shipping_address=services.AddressData(
            name="Zoë Ødegård",
            line1="Kwiatowa 12/4",
            line2="Gate B, code 4711",
            city="Kraków",
            postal_code="30-001",
            country="PL",
            phone="+48 600 100 200",
        ),
        lines=[services.LineData(sku="MUG-BLUE", quantity=2)],
        shipping_method="standard",
    )
    order = services.order_create(actor=SYSTEM, draft=draft).order
    order_walk_to(order=order, status=status, actor=SYSTEM)
    return Order.objects.get(pk=order.pk)


def page(order: Order) -> Any:
    return Client().get(status_link_path(order))


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def invoice_path(order: Order) -> str:
    return reverse("order-status-invoice", kwargs={"token": status_link_token(order)})


def altered(token: str) -> str:
    at = len(token) // 2
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def shipped_in_two_parcels() -> Order:
    order = hand_over(labelled(packed_in_two_boxes()))
    first, second = numbers(order)
    receive(own_body(event(first, "in_transit", T0, description="Left the sorting centre", location="Łódź")))
    receive(own_body(event(second, "in_transit", T0.replace(hour=9))))
    driving = event(first, "out_for_delivery", T0.replace(hour=10), description="With the driver", location="Kraków")
    receive(own_body(driving))
    return Order.objects.get(pk=order.pk)


def assert_private(response: Any) -> None:
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "private, no-store"


# --- what the page shows --------------------------------------------------------------------


def test_the_link_opens_the_order_with_its_items_totals_and_where_it_stands() -> None:
    order = private_order(S.PAID)

    text = html(page(order))

    assert f"Order {order.number}" in text
    assert f"placed {formatting.day(order.created_at)}" in text
    assert "Payment received" in text
    assert "Blue mug" in text and ">2<" in text
    assert "€25.00" in text and "€4.99" in text and "€29.99" in text


def test_money_and_dates_follow_the_shop_locale(settings) -> None:
    settings.OMS_SHOP_LOCALE = "de_DE"
    order = private_order(S.PAID)

    text = html(page(order))

    assert "29,99\xa0€" in text
    assert formatting.day(order.created_at) in text and "." in formatting.day(order.created_at)


@pytest.mark.parametrize(
    ("status", "steps", "current"),
    [
        (S.UNHANDLED, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered"], "Order received"),
        (S.PAID, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered"], "Paid"),
        (S.PICKING, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered"], "Being prepared"),
        (S.PACKED, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered"], "Being prepared"),
        (S.SHIPPED, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered"], "Shipped"),
        (S.EXECUTED, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered"], "Delivered"),
        (S.RETURNED, ["Order received", "Paid", "Being prepared", "Shipped", "Delivered", "Returned"], "Returned"),
        (S.CANCELLED, ["Order received", "Cancelled"], "Cancelled"),
    ],
)
def test_the_timeline_speaks_the_customers_words(status: str, steps: list[str], current: str) -> None:
    order = make_order(status)

    timeline = status_timeline(order)

    assert [s.label for s in timeline] == steps
    assert [s.label for s in timeline if s.current] == [current]
    done = [s.label for s in timeline if s.done]
    assert done == steps[: steps.index(current) + 1]
    assert all(s.when is not None for s in timeline if s.done)


def test_an_order_cancelled_after_payment_shows_it_was_paid() -> None:
    order = make_order(S.PAID)
    services.order_cancel(actor=SYSTEM, number=order.number, reason="Out of stock")

    timeline = status_timeline(Order.objects.get(pk=order.pk))

    assert [s.label for s in timeline] == ["Order received", "Paid", "Cancelled"]


def test_the_page_marks_the_steps_done_and_the_current_one() -> None:
    order = private_order(S.PAID)

    text = html(page(order))

    assert text.index("Order received") < text.index(">Paid<") < text.index("Being prepared") < text.index("Shipped")
    assert text.count('class="done"') == 1 and text.count('class="done current"') == 1
    assert text.count('class="todo"') == 3
    assert 'aria-current="step"' in text


def test_the_delivery_promise_is_shown_until_delivered() -> None:
    order = private_order(S.PAID)
    order_set_promise(actor=SYSTEM, number=order.number, ship_by=date(2026, 3, 3), promised_delivery=date(2026, 3, 5))

    text = html(page(order))

    assert f"Expected delivery: <strong>{formatting.day(date(2026, 3, 5))}</strong>" in text


# --- what the page keeps back ---------------------------------------------------------------


def test_the_address_shows_only_the_town_and_the_first_letter_of_the_street() -> None:
    order = private_order(S.PAID)

    text = html(page(order))

    assert "K… 30-001 Kraków, Poland" in text
    for secret in ("Kwiatowa", "12/4", "Gate B", "4711", "zoe.private", "600 100 200", "Zoë", "Ødegård"):
        assert secret not in text, secret


# --- shipped --------------------------------------------------------------------------------


def test_a_shipped_order_shows_the_carrier_each_parcel_with_its_link_and_the_latest_scan() -> None:
    order = shipped_in_two_parcels()
    first, second = numbers(order)

    text = html(page(order))

    assert "On its way" in text and "Delivery by City Fleet" in text
    assert f'<a href="https://track.example/{first}" rel="noopener noreferrer" target="_blank">{first}</a>' in text
    assert f'<a href="https://track.example/{second}" rel="noopener noreferrer" target="_blank">{second}</a>' in text
    latest = text[text.index('class="latest"') :]
    assert "Out for delivery today</strong>: With the driver" in latest
    assert "Kraków" in latest and formatting.moment(T0.replace(hour=10)) in latest
    assert text.index(first) < text.index(second)


def test_the_earlier_scans_show_newest_first_up_to_five() -> None:
    order = shipped_in_two_parcels()  # three scans
    first, _second = numbers(order)
    for hour in range(11, 15):
        receive(own_body(event(first, "in_transit", T0.replace(hour=hour), location=f"Hub {hour}")))

    text = html(page(order))

    earlier = text[text.index('class="scans"') : text.index("</details>", text.index('class="scans"'))]
    assert [f"Hub {h}" in earlier for h in (13, 12, 11)] == [True, True, True]
    assert earlier.index("Hub 13") < earlier.index("Hub 12") < earlier.index("Hub 11")
    assert "Hub 14" not in earlier  # the latest, shown above
    assert "With the driver" in earlier and "Left the sorting centre" not in earlier  # five at most


def test_parcels_are_not_shown_before_the_order_ships() -> None:
    order = labelled()  # labels made, still at the warehouse
    (number,) = numbers(order)

    text = html(page(order))

    assert number not in text and "Delivery by" not in text
    assert "Being prepared" in text


# --- bad links ------------------------------------------------------------------------------


def test_every_link_that_opens_no_order_gets_the_same_404_page() -> None:
    # Given an order with a working link, an altered copy of it, and one of a revoked version
    order = private_order(S.PAID)
    token = status_link_token(order)
    services.order_revoke_status_links(actor=SYSTEM, number=order.number)
    revoked = Client().get(f"/track/{token}/")

    # When an altered link, a made-up one and a link of a deleted order's number are opened
    answers = [
        Client().get(f"/track/{altered(token)}/"),
        Client().get("/track/not-a-token/"),
        revoked,
    ]

    # Then all answer the same 404 page, as private as the page itself
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert answers[0].content == answers[1].content == answers[2].content
    assert b"This link does not open an order" in answers[0].content
    for answer in answers:
        assert_private(answer)


def test_a_new_link_works_after_the_old_ones_were_revoked() -> None:
    order = private_order(S.PAID)
    old = status_link_path(order)

    order = services.order_revoke_status_links(actor=SYSTEM, number=order.number, reason="Shared by mistake")

    assert Client().get(old).status_code == 404
    assert page(order).status_code == 200


def test_a_link_signed_for_another_order_number_does_not_open_this_one() -> None:
    order = private_order(S.PAID)
    other = make_order(S.PAID)
    token = status_link_token(order)
    payload, signature = token.rsplit(":", 1)
    other_token = status_link_token(other)
    forged = f"{other_token.rsplit(':', 1)[0]}:{signature}"

    assert Client().get(f"/track/{forged}/").status_code == 404
    assert Client().get(f"/track/{payload}:{signature}/").status_code == 200


def test_the_page_is_only_read() -> None:
    assert Client().post(status_link_path(private_order())).status_code == 405


# --- privacy headers ------------------------------------------------------------------------


def test_the_page_is_kept_from_search_engines_caches_and_referrers() -> None:
    response = page(private_order(S.PAID))

    assert_private(response)
    text = html(response)
    assert '<meta name="robots" content="noindex">' in text
    assert '<meta name="referrer" content="same-origin">' in text
    assert "http://" not in text.replace("http://testserver", "") and "https://" not in text  # nothing external


# --- the invoice through the link -----------------------------------------------------------


def test_the_invoice_link_appears_once_issued_and_downloads_that_orders_invoice() -> None:
    # Given two invoiced orders, and one link
    order, other = private_order(S.PAID), make_order(S.PAID)
    invoice = invoice_issue(actor=SYSTEM, number=order.number)
    invoice_issue(actor=SYSTEM, number=other.number)

    # When the link's page and its invoice are opened (one token: a token made a second
    # later is another, equally valid string)
    link = status_link_path(order)
    text = html(Client().get(link))
    response = Client().get(f"{link}invoice.pdf")

    # Then it is this order's invoice, exactly as printed anywhere else
    assert f'href="{link}invoice.pdf"' in text
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content == invoice_pdf(invoice)
    assert_private(response)


def test_no_invoice_link_before_the_invoice_is_issued_and_its_address_says_why() -> None:
    order = private_order(S.UNHANDLED)

    text = html(page(order))
    response = Client().get(invoice_path(order))

    assert "invoice.pdf" not in text
    assert response.status_code == 404
    assert b"No invoice yet" in response.content and b"once the order is paid" in response.content
    assert_private(response)


def test_the_invoice_of_a_bad_link_gets_the_same_404_page_as_the_page() -> None:
    order = private_order(S.PAID)
    invoice_issue(actor=SYSTEM, number=order.number)
    token = status_link_token(order)

    by_invoice = Client().get(f"/track/{altered(token)}/invoice.pdf")
    by_page = Client().get(f"/track/{altered(token)}/")

    assert by_invoice.status_code == 404
    assert by_invoice.content == by_page.content
    assert_private(by_invoice)


# --- cost -----------------------------------------------------------------------------------


def queries(order: Order) -> int:
    with CaptureQueriesContext(connection) as ctx:
        html(page(order))
    return len(ctx.captured_queries)


def test_the_page_costs_a_few_queries_however_many_lines_parcels_and_scans() -> None:
    # Given a shipped order in one parcel with one scan, and one in two parcels with three
    small = hand_over(labelled())
    receive(own_body(event(numbers(small)[0], "in_transit", T0)))
    big = shipped_in_two_parcels()
    invoice_issue(actor=SYSTEM, number=big.number)

    # Then both cost the same: the link's order with what it joins, lines, parcels, latest scan
    assert queries(small) == queries(big) == 4
    assert queries(private_order(S.PAID)) == 2


def test_a_revoked_link_costs_what_a_link_of_no_order_costs() -> None:
    # Given a revoked link of an existing order, and a validly signed link of an order that
    # does not exist
    order = private_order(S.PAID)
    revoked = status_link_token(order)
    services.order_revoke_status_links(actor=SYSTEM, number=order.number)
    unknown = status_link_token(Order(number="OMS-NO-SUCH", status_link_version=0))

    # When each is opened
    costs = []
    for token in (revoked, unknown):
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(f"/track/{token}/").status_code == 404
        costs.append(len(ctx.captured_queries))

    # Then both read the order once and nothing else
    assert costs == [1, 1]
