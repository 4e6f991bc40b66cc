"""What customers do on their order-status page: cancel before picking starts, send the order
elsewhere before it is packed, see whether their payment arrived and what happens next. The
forms show only while the action is possible; a bad link, a missing CSRF token or an order
that moved on changes nothing."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel
from notifications import customer_actions, formatting
from notifications.customer_actions import WRONG_EMAIL
from notifications.status_links import status_link_token
from oms.common.actors import ActorKind
from orders import services
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent
from tests.factories import SYSTEM
from tests.notifications.test_status_page import altered, assert_private, html, private_order
from tests.orders.test_customer_services import state

pytestmark = pytest.mark.django_db

S = OrderStatus
_addresses = itertools.count(1)
NEW_ADDRESS = {
    "email": "Zoe.Private@example.com",
    "name": "Zoë Ødegård",
    "line1": "Długa 5",
    "line2": "",
    "postal_code": "31-147",
    "city": "Kraków",
    "phone": "",
}


@pytest.fixture
def address() -> Iterator[str]:
    """A client address of the test's own, so no other test spends its lookup budget."""
    n = next(_addresses)
    # Per xdist worker too: the workers share the cache (Redis) and count from 1 alike.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    ip = f"10.{120 + worker}.{n // 250}.{n % 250 + 1}"
    cache.delete(f"throttle_order_lookup_{ip}")
    yield ip
    cache.delete(f"throttle_order_lookup_{ip}")


_tokens: dict[tuple[str, int], str] = {}


def token_of(order: Order) -> str:
    """One token per order and link version: tokens made a second apart are different
    strings, equally valid, and a test compares the paths built from them."""
    key = (order.number, order.status_link_version)
    return _tokens.setdefault(key, status_link_token(order))


def status_path(order: Order) -> str:
    return reverse("order-status", kwargs={"token": token_of(order)})


def show(order: Order) -> Any:
    return Client().get(status_path(order))


def cancel_path(order: Order, token: str | None = None) -> str:
    return reverse("order-status-cancel", kwargs={"token": token or token_of(order)})


def address_path(order: Order, token: str | None = None) -> str:
    return reverse("order-status-address", kwargs={"token": token or token_of(order)})


def cancel(order: Order, client: Client | None = None, /, **data: str) -> Any:
    body = {"reason": "found_cheaper", "comment": "", "confirm": "on", **data}
    return (client or Client()).post(cancel_path(order), body)


def change_address(order: Order, ip: str, client: Client | None = None, /, **data: str) -> Any:
    return (client or Client()).post(address_path(order), {**NEW_ADDRESS, **data}, REMOTE_ADDR=ip)


def stock_of_mugs() -> tuple[int, int]:
    level = StockLevel.objects.get(product__sku="MUG-BLUE")
    return level.on_hand, level.allocated


# --- what the page offers -------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.UNHANDLED, S.PAID])
def test_before_picking_the_page_offers_both_forms_with_their_csrf_token(status: str) -> None:
    order = private_order(status)

    text = html(show(order))

    assert f'action="{cancel_path(order)}"' in text and f'action="{address_path(order)}"' in text
    assert text.count('name="csrfmiddlewaretoken"') == 2
    assert "This cannot be undone." in text
    assert "Found it cheaper" in text and "Ordered by mistake" in text and "Takes too long" in text


def test_while_picking_only_the_address_can_change() -> None:
    order = private_order(S.PICKING)

    text = html(show(order))

    assert f'action="{address_path(order)}"' in text
    assert "/cancel/" not in text and "Cancel the order" not in text


@pytest.mark.parametrize("status", [S.PACKED, S.SHIPPED, S.EXECUTED, S.CANCELLED])
def test_once_packed_the_page_offers_no_action(status: str) -> None:
    order = private_order(status)

    text = html(show(order))

    assert "/cancel/" not in text and "/address/" not in text
    assert "Change of plans?" not in text
    if status != S.EXECUTED:  # a delivered order offers only its rating form
        assert "csrfmiddlewaretoken" not in text


def test_the_page_says_when_the_payment_arrived() -> None:
    order = private_order(S.PAID)

    text = html(show(order))

    assert f"Payment received on {formatting.day(order.paid_at)}." in text


def test_the_page_says_the_payment_is_awaited_and_what_comes_next() -> None:
    order = private_order(S.UNHANDLED)

    text = html(show(order))

    assert "Waiting for your payment of €29.99." in text
    assert "As soon as your payment arrives, our warehouse prepares your order" in text


def test_the_page_says_by_when_the_order_leaves_the_warehouse() -> None:
    order = private_order(S.PAID)
    ship_by = timezone.localdate() + timedelta(days=2)
    services.order_set_promise(
        actor=SYSTEM, number=order.number, ship_by=ship_by, promised_delivery=ship_by + timedelta(days=2)
    )

    text = html(show(order))

    assert f"It leaves our warehouse by {formatting.day(ship_by)}" in text


def test_a_late_order_does_not_promise_a_day_gone_by() -> None:
    order = private_order(S.PAID)
    ship_by = timezone.localdate() - timedelta(days=1)
    services.order_set_promise(actor=SYSTEM, number=order.number, ship_by=ship_by, promised_delivery=ship_by)

    text = html(show(order))

    assert "It is taking longer than we planned" in text
    assert f"by {formatting.day(ship_by)}" not in text


# --- cancelling -----------------------------------------------------------------------------


def test_the_cancel_page_asks_for_a_reason_and_a_confirmation() -> None:
    order = private_order(S.PAID)

    response = Client().get(cancel_path(order))

    text = html(response)
    assert "Why do you want to cancel?" in text and "This cannot be undone." in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert_private(response)


def test_a_customer_cancels_a_paid_order_and_is_told_the_refund_is_owed() -> None:
    # Given a paid order of two mugs with one link, in a browser
    order = private_order(S.PAID)
    client = Client()
    assert stock_of_mugs() == (10, 2)

    # When the customer cancels it on the page
    response = cancel(order, client, reason="takes_too_long", comment="Needed it for Friday")

    # Then they are sent back to the page, which says it is cancelled and what is owed
    assert response.status_code == 303
    assert response["Location"] == status_path(order)
    assert_private(response)
    followed = client.get(response["Location"])
    text = html(followed)
    assert f"Order {order.number} is cancelled. We owe you €29.99" in text
    assert "Cancelled" in text and "We owe you €29.99: we refund it the way you paid" in text
    assert_private(followed)
    # And the order is cancelled as the customer's act, its mugs free, the refund due recorded
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    assert stock_of_mugs() == (10, 0)
    move = OrderEvent.objects.get(order=order, to_status=S.CANCELLED)
    assert move.actor_kind == ActorKind.CUSTOMER
    assert move.note == "Cancelled by the customer: Takes too long. Needed it for Friday"
    assert OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND_DUE).data == {
        "amount": "29.99",
        "currency": "EUR",
    }
    # And the confirmation is shown once
    assert "is cancelled. We owe you" not in html(client.get(response["Location"]))


def test_an_unpaid_order_cancelled_says_nothing_was_charged() -> None:
    order = private_order(S.UNHANDLED)
    client = Client()

    response = cancel(order, client, reason="ordered_by_mistake")

    assert response.status_code == 303
    assert "You have not been charged for it." in html(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "field"), [({"confirm": ""}, "confirm"), ({"reason": ""}, "reason"), ({"reason": "bored"}, "reason")]
)
def test_a_cancel_without_a_reason_or_a_confirmation_changes_nothing(data: dict[str, str], field: str) -> None:
    order = private_order(S.PAID)
    before = state(order)

    response = cancel(order, None, **data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert state(order) == before
    assert_private(response)


@pytest.mark.parametrize("status", [S.PICKING, S.SHIPPED])
def test_once_picking_started_cancelling_is_refused_with_a_sentence_and_nothing_changes(status: str) -> None:
    order = private_order(status)
    before = state(order)

    shown = Client().get(cancel_path(order))
    posted = cancel(order)

    for response in (shown, posted):
        assert response.status_code == 409
        assert f"Order {order.number} can no longer be cancelled" in response.content.decode()
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert_private(response)
    assert state(order) == before


def test_a_cancel_refused_between_showing_and_sending_the_form_changes_nothing(monkeypatch) -> None:
    # Given the form was shown while the order was paid, and picking started meanwhile
    order = private_order(S.PAID)

    def allowed_when_shown(_order: Order) -> None:
        return None

    monkeypatch.setattr(customer_actions, "customer_cancel_refusal", allowed_when_shown)
    services.order_start_picking(actor=SYSTEM, number=order.number)
    before = state(order)

    # When the customer sends it, then the service refuses under the lock, with the sentence
    response = cancel(order)

    assert response.status_code == 409
    assert "our warehouse has already started preparing it" in response.content.decode()
    assert state(order) == before


# --- changing the address -------------------------------------------------------------------


def test_a_customer_sends_the_order_elsewhere_and_the_page_says_so(address: str) -> None:
    order = private_order(S.PICKING)
    client = Client()

    response = change_address(order, address, client)

    assert response.status_code == 303 and response["Location"] == status_path(order)
    assert_private(response)
    text = html(client.get(response["Location"]))
    assert f"Order {order.number} now goes to the new address." in text
    assert "D… 31-147 Kraków, Poland" in text
    order.refresh_from_db()
    assert (order.shipping_address.line1, order.shipping_address.postal_code) == ("Długa 5", "31-147")
    assert str(order.shipping_address.country) == "PL"
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.EDITED)
    assert event.actor_kind == ActorKind.CUSTOMER
    assert event.data["after"]["shipping_address"]["city"] == "Kraków"


def test_the_address_form_shows_nothing_of_the_current_address() -> None:
    order = private_order(S.PAID)

    text = html(Client().get(address_path(order)))

    assert "K… 30-001 Kraków, Poland" in text
    for secret in ("Kwiatowa", "12/4", "Gate B", "zoe.private", "600 100 200", "Zoë"):
        assert secret not in text, secret


def test_only_the_email_the_order_was_placed_with_lets_the_address_change(address: str) -> None:
    order = private_order(S.PAID)
    before = state(order)

    response = change_address(order, address, email="someone.else@example.com")

    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [WRONG_EMAIL]
    assert state(order) == before


def test_guessing_the_email_is_cut_short_by_the_lookup_budget(address: str) -> None:
    order = private_order(S.PAID)
    for n in range(10):
        change_address(order, address, email=f"guess{n}@example.com")
    before = state(order)

    response = change_address(order, address)  # the right email, too late

    assert response.status_code == 429
    assert state(order) == before


def test_a_missing_field_is_named_and_nothing_changes(address: str) -> None:
    order = private_order(S.PAID)
    before = state(order)

    response = change_address(order, address, line1="")

    assert response.status_code == 400
    assert response.context["form"].errors["line1"] == ["This field is required."]
    assert state(order) == before


@pytest.mark.parametrize("status", [S.PACKED, S.SHIPPED, S.CANCELLED])
def test_once_packed_the_address_change_is_refused_with_a_sentence(address: str, status: str) -> None:
    order = private_order(status)
    before = state(order)

    shown = Client().get(address_path(order))
    posted = change_address(order, address)

    for response in (shown, posted):
        assert response.status_code == 409
        assert order.number in response.content.decode()
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert_private(response)
    assert state(order) == before


def test_the_address_form_offers_the_orders_country_only() -> None:
    order = private_order(S.PAID)

    text = html(Client().get(address_path(order)))

    assert 'name="country"' not in text
    assert "elsewhere in Poland only: for another country, write to us" in text


# --- CSRF and bad links ---------------------------------------------------------------------


def test_both_forms_refuse_a_post_without_the_csrf_token(address: str) -> None:
    order = private_order(S.PAID)
    before = state(order)
    client = Client(enforce_csrf_checks=True)

    assert cancel(order, client).status_code == 403
    assert change_address(order, address, client).status_code == 403
    assert state(order) == before


def test_the_pages_csrf_token_lets_the_cancel_through() -> None:
    order = private_order(S.PAID)
    client = Client(enforce_csrf_checks=True)
    client.get(status_path(order))

    response = cancel(order, client, csrfmiddlewaretoken=client.cookies["csrftoken"].value)

    assert response.status_code == 303
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED


@pytest.mark.parametrize("how", ["altered", "revoked"])
def test_a_bad_link_cannot_act_and_gets_the_pages_404(address: str, how: str) -> None:
    order = private_order(S.PAID)
    token = status_link_token(order)
    if how == "altered":
        token = altered(token)
    else:
        order = services.order_revoke_status_links(actor=SYSTEM, number=order.number)
    before = state(order)
    not_found = Client().get(f"/track/{token}/")

    answers = [
        Client().get(cancel_path(order, token)),
        Client().post(cancel_path(order, token), {"reason": "found_cheaper", "confirm": "on"}),
        Client().get(address_path(order, token)),
        Client().post(address_path(order, token), NEW_ADDRESS, REMOTE_ADDR=address),
    ]

    assert not_found.status_code == 404
    for answer in answers:
        assert answer.status_code == 404
        assert answer.content == not_found.content
        assert_private(answer)
    assert state(order) == before


# --- cost -----------------------------------------------------------------------------------


def test_the_confirmation_costs_the_page_no_query() -> None:
    # Given a customer back on the page after cancelling, with the confirmation in a cookie
    order = private_order(S.PAID)
    client = Client()
    location = cancel(order, client)["Location"]

    # Then the page costs what it costs without it (the message is not kept in a session)
    with CaptureQueriesContext(connection) as ctx:
        text = html(client.get(location))
    assert "is cancelled" in text
    assert len(ctx.captured_queries) == 2
