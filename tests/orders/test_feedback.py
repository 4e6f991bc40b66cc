"""Customer feedback: a rating from 1 to 5 and a comment, once per delivered order, audited as
the customer's; every refusal writes nothing."""

from __future__ import annotations

import pytest

from oms.common.errors import InvalidInput
from orders.enums import OrderEventKind
from orders.enums import OrderStatus as S
from orders.models import OrderEvent, OrderFeedback
from orders.services import FeedbackAlreadyGiven, FeedbackNotYet, feedback_refusal, order_feedback_give
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_a_delivered_order_is_rated_once_and_the_timeline_says_the_customer_did() -> None:
    order = make_order(S.EXECUTED)

    feedback = order_feedback_give(number=order.number, rating=4, comment="  Quick, well packed. ")

    assert (feedback.rating, feedback.comment) == (4, "Quick, well packed.")
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.FEEDBACK_GIVEN)
    assert (event.actor_kind, event.data, event.note) == ("customer", {"rating": 4}, "Quick, well packed.")
    assert isinstance(feedback_refusal(order), FeedbackAlreadyGiven)


@pytest.mark.parametrize("status", [S.PAID, S.SHIPPED, S.CANCELLED])
def test_an_order_not_delivered_cannot_be_rated(status: str) -> None:
    order = make_order(status)

    with pytest.raises(FeedbackNotYet, match="has not arrived yet") as error:
        order_feedback_give(number=order.number, rating=5)

    assert error.value.http_status == 409 and error.value.code == "feedback_not_yet"
    assert not OrderFeedback.objects.exists() and not OrderEvent.objects.filter(kind="feedback_given").exists()


def test_a_second_rating_is_refused_and_the_first_kept() -> None:
    order = make_order(S.EXECUTED)
    order_feedback_give(number=order.number, rating=2)

    with pytest.raises(FeedbackAlreadyGiven) as error:
        order_feedback_give(number=order.number, rating=5)

    assert error.value.code == "feedback_already_given"
    assert OrderFeedback.objects.get(order=order).rating == 2


@pytest.mark.parametrize(
    ("rating", "comment", "field"), [(0, "", "rating"), (6, "", "rating"), (3, "x" * 2001, "comment")]
)
def test_a_rating_out_of_range_or_an_overlong_comment_is_refused(rating: int, comment: str, field: str) -> None:
    order = make_order(S.EXECUTED)

    with pytest.raises(InvalidInput) as error:
        order_feedback_give(number=order.number, rating=rating, comment=comment)

    assert field in error.value.fields
    assert not OrderFeedback.objects.exists()
