"""Rating a delivered order on its status page: the form is offered once the order arrived
and until it is rated, the rating is recorded as the customer's, a second one is refused, a bad
link gets the page's 404, and the form takes no post without its CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from notifications.status_links import status_link_path, status_link_token
from orders.enums import OrderStatus as S
from orders.models import Order, OrderEvent, OrderFeedback
from orders.services import order_feedback_give, order_revoke_status_links
from tests.factories import SYSTEM, make_order
from tests.notifications.test_status_page import assert_private

pytestmark = pytest.mark.django_db


def feedback_url(order: Order) -> str:
    return reverse("order-status-feedback", kwargs={"token": status_link_token(order)})


def rate(order: Order, data: dict[str, Any], client: Client | None = None) -> Any:
    return (client or Client()).post(feedback_url(order), data)


def test_a_delivered_order_offers_the_rating_form_and_records_the_rating() -> None:
    order = make_order(S.EXECUTED)
    page = Client().get(status_link_path(order)).content.decode()
    assert 'id="feedback"' in page and "Send my rating" in page

    response = rate(order, {"rating": "4", "comment": " Fast. "})

    assert response.status_code == 303 and response["Location"] == status_link_path(order)
    assert_private(response)
    feedback = OrderFeedback.objects.get(order=order)
    assert (feedback.rating, feedback.comment) == (4, "Fast.")
    assert OrderEvent.objects.get(order=order, kind="feedback_given").actor_kind == "customer"
    after = Client().get(status_link_path(order)).content.decode()
    assert "You rated this order <strong>4 out of 5</strong>" in after and "Send my rating" not in after


@pytest.mark.parametrize("status", [S.PAID, S.SHIPPED, S.CANCELLED])
def test_no_rating_before_the_order_arrived(status: str) -> None:
    order = make_order(status)

    assert "Send my rating" not in Client().get(status_link_path(order)).content.decode()
    response = rate(order, {"rating": "5"})

    assert response.status_code == 409 and "has not arrived yet" in response.content.decode()
    assert not OrderFeedback.objects.exists()


def test_a_second_rating_is_refused_and_the_first_kept() -> None:
    order = make_order(S.EXECUTED)
    order_feedback_give(number=order.number, rating=2)

    response = rate(order, {"rating": "5"})

    assert response.status_code == 409 and "rated already" in response.content.decode()
    assert OrderFeedback.objects.get(order=order).rating == 2


@pytest.mark.parametrize("data", [{}, {"rating": "9"}, {"rating": "3", "comment": "x" * 2001}])
def test_a_wrong_rating_is_explained_and_nothing_recorded(data: dict[str, str]) -> None:
    order = make_order(S.EXECUTED)

    response = rate(order, data)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert not OrderFeedback.objects.exists()


def test_a_revoked_link_cannot_rate() -> None:
    order = make_order(S.EXECUTED)
    old = feedback_url(order)
    order_revoke_status_links(actor=SYSTEM, number=order.number)

    response = Client().post(old, {"rating": "5"})

    assert response.status_code == 404
    assert not OrderFeedback.objects.exists()


def test_the_rating_form_needs_its_csrf_token() -> None:
    order = make_order(S.EXECUTED)

    response = rate(order, {"rating": "5"}, client=Client(enforce_csrf_checks=True))

    assert response.status_code == 403
    assert not OrderFeedback.objects.exists()
