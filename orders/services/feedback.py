"""Customer feedback: a rating from 1 to 5 and a comment on a delivered order, given once on
the order-status page after the feedback email asks for it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus
from orders.locks import lock_order
from orders.models import Order, OrderFeedback
from orders.services.lifecycle import _record_event

# Orders whose customer can say how it went: it arrived (and may have come back since).
RATEABLE = frozenset({OrderStatus.EXECUTED, OrderStatus.RETURNED})
COMMENT_MAX = 2000


class FeedbackNotYet(Conflict):
    code = OrderErrorCode.FEEDBACK_NOT_YET


class FeedbackAlreadyGiven(Conflict):
    code = OrderErrorCode.FEEDBACK_ALREADY_GIVEN


def feedback_refusal(order: Order) -> Conflict | None:
    """Why the order cannot be rated now, or None: lets the page decide whether to ask."""
    if order.status not in RATEABLE or order.executed_at is None:
        return FeedbackNotYet(
            f"Order {order.number} has not arrived yet: rate it once it is delivered.",
            extra={"order": order.number, "status": order.status},
        )
    if OrderFeedback.objects.filter(order=order).exists():
        return FeedbackAlreadyGiven(
            f"Order {order.number} has been rated already: thank you.", extra={"order": order.number}
        )
    return None


@transaction.atomic
def order_feedback_give(*, number: str, rating: int, comment: str = "") -> OrderFeedback:
    """Records the customer's rating (1-5) and comment, once, on the order's timeline as the
    customer's. Raises NotFound, InvalidInput (rating out of range, comment too long),
    FeedbackNotYet (not delivered), FeedbackAlreadyGiven, writing nothing."""
    comment = comment.strip()
    errors: dict[str, list[str]] = {}
    if not 1 <= rating <= 5:
        errors["rating"] = ["Choose from 1 (poor) to 5 (excellent)."]
    if len(comment) > COMMENT_MAX:
        errors["comment"] = [f"Keep the comment within {COMMENT_MAX} characters."]
    if errors:
        raise InvalidInput("The rating cannot be recorded as it is.", fields=errors)
    order = lock_order(number=number)
    refusal = feedback_refusal(order)
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            feedback = OrderFeedback.objects.create(order=order, rating=rating, comment=comment)
    except IntegrityError:  # pragma: no cover - the order lock serializes two submissions
        raise FeedbackAlreadyGiven(f"Order {order.number} has been rated already: thank you.") from None
    _record_event(
        order=order,
        actor=Actor.customer(),
        kind=OrderEventKind.FEEDBACK_GIVEN,
        note=comment[:255],
        data={"rating": rating},
    )
    return feedback
