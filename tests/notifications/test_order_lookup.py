"""/track/: a customer opens their order with its number and their email or postal code; an
unknown number and a wrong detail get the same answer, every attempt counts against the
client's budget in the cache, and the form takes no post without its CSRF token."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from notifications.customer_views import NO_MATCH, TOO_MANY
from notifications.status_links import order_for_lookup, status_link_path
from orders.models import Order
from orders.services import order_revoke_status_links
from tests.factories import SYSTEM
from tests.notifications.test_status_page import assert_private, private_order

pytestmark = pytest.mark.django_db

LOOKUP = "/track/"
_addresses = itertools.count(1)


@pytest.fixture
def address() -> Iterator[str]:
    """A client address of the test's own, so no other test spends its budget."""
    n = next(_addresses)
    # Per xdist worker too: the workers share the cache (Redis) and count from 1 alike.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    ip = f"10.{20 + worker}.{n // 250}.{n % 250 + 1}"
    cache.delete(f"throttle_order_lookup_{ip}")
    yield ip
    cache.delete(f"throttle_order_lookup_{ip}")


def look_up(address: str, number: str, contact: str, client: Client | None = None) -> Any:
    return (client or Client()).post(LOOKUP, {"number": number, "contact": contact}, REMOTE_ADDR=address)


def test_the_lookup_page_asks_for_the_number_and_the_email_or_postal_code() -> None:
    response = Client().get(LOOKUP)

    assert response.status_code == 200
    assert reverse("order-lookup") == LOOKUP
    body = response.content.decode()
    assert '<label for="id_number">Order number</label>' in body
    assert '<label for="id_contact">Email address or delivery postal code</label>' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert_private(response)


@pytest.mark.parametrize(
    "contact", ["zoe.private@example.com", "  ZOE.Private@Example.COM ", "30-001", "30 001", "30001"]
)
def test_the_number_with_the_email_or_the_postal_code_opens_the_status_page(address: str, contact: str) -> None:
    order = private_order()

    response = look_up(address, order.number, contact)

    assert response.status_code == 303
    assert response["Location"] == status_link_path(order)
    assert_private(response)
    assert Client().get(response["Location"]).status_code == 200


def test_the_number_may_be_typed_in_lower_case(address: str) -> None:
    order = private_order()

    assert look_up(address, f" {order.number.lower()} ", "30-001")["Location"] == status_link_path(order)


def test_the_link_it_gives_is_the_current_one_after_links_were_revoked(address: str) -> None:
    order = private_order()
    old = status_link_path(order)
    order_revoke_status_links(actor=SYSTEM, number=order.number)

    location = look_up(address, order.number, "30-001")["Location"]

    assert location != old
    assert location == status_link_path(Order.objects.get(pk=order.pk))
    assert Client().get(old).status_code == 404


def _answer(response: Any, *echoed: str) -> tuple[int, str]:
    """The status and the page without what the visitor typed and the per-response token."""
    body = response.content.decode()
    for text in echoed:
        body = body.replace(text, "TYPED")
    start = body.index('name="csrfmiddlewaretoken" value="')
    end = body.index('"', start + len('name="csrfmiddlewaretoken" value="'))
    return response.status_code, body[:start] + body[end:]


def test_an_unknown_number_and_a_wrong_email_or_postal_code_get_the_same_answer(address: str) -> None:
    order = private_order()
    unknown = order.number[:-3] + "999"

    answers = [
        _answer(look_up(address, unknown, "zoe.private@example.com"), unknown),
        _answer(look_up(address, order.number, "someone.else@example.com"), order.number, "someone.else@example.com"),
        _answer(look_up(address, order.number, "00-950"), order.number, "00-950"),
    ]

    status, body = answers[0]
    assert status == 404 and NO_MATCH in body
    assert answers[1] == (status, body.replace("zoe.private@example.com", "TYPED"))
    assert answers[2] == (status, body.replace("zoe.private@example.com", "TYPED"))
    assert "zoe" not in body.replace("zoe.private@example.com", "").lower()  # nothing of the order shows


def test_an_email_never_matches_a_postal_code_or_an_empty_detail() -> None:
    order = private_order()

    assert order_for_lookup(order.number, "30-001@") is None
    assert order_for_lookup(order.number, " - ") is None
    assert order_for_lookup("", "") is None


@pytest.mark.parametrize(
    ("data", "field"), [({"number": "", "contact": "30-001"}, "number"), ({"number": "X"}, "contact")]
)
def test_a_missing_detail_is_named(address: str, data: dict[str, str], field: str) -> None:
    response = Client().post(LOOKUP, data, REMOTE_ADDR=address)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == ["This field is required."]


def test_after_ten_attempts_in_an_hour_a_client_is_refused_even_with_the_right_details(address: str) -> None:
    order = private_order()

    answers = [look_up(address, order.number, "wrong@example.com").status_code for _ in range(10)]
    refused = look_up(address, order.number, "30-001")

    assert answers == [404] * 10
    assert refused.status_code == 429
    assert TOO_MANY in refused.content.decode()
    assert_private(refused)
    assert look_up(f"{address}9", order.number, "30-001").status_code == 303  # another client is not held up
    cache.delete(f"throttle_order_lookup_{address}9")


def test_a_post_without_the_csrf_token_is_refused(address: str) -> None:
    order = private_order()

    response = look_up(address, order.number, "30-001", client=Client(enforce_csrf_checks=True))

    assert response.status_code == 403


def test_a_post_with_the_pages_csrf_token_goes_through(address: str) -> None:
    order = private_order()
    client = Client(enforce_csrf_checks=True)
    client.get(LOOKUP)
    token = client.cookies["csrftoken"].value

    response = client.post(
        LOOKUP, {"number": order.number, "contact": "30-001", "csrfmiddlewaretoken": token}, REMOTE_ADDR=address
    )

    assert response.status_code == 303
