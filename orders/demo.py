"""Brings an order to any status through the real services, as staff and integrators would.

Used by ``seed_demo`` and by the tests, so demo orders and test orders have real timelines.
"""

from __future__ import annotations

from collections.abc import Callable

from oms.common.actors import Actor
from orders import services
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order

# The moves that take a new (unhandled) order to each status.
STEPS_TO: dict[str, tuple[str, ...]] = {
    OrderStatus.UNHANDLED: (),
    OrderStatus.PAID: ("pay",),
    OrderStatus.PICKING: ("pay", "pick"),
    OrderStatus.PACKED: ("pay", "pick", "pack"),
    OrderStatus.SHIPPED: ("pay", "pick", "pack", "ship"),
    OrderStatus.EXECUTED: ("pay", "pick", "pack", "ship", "execute"),
    OrderStatus.RETURNED: ("pay", "pick", "pack", "ship", "execute", "return"),
    OrderStatus.CANCELLED: ("cancel",),
}

_MOVES: dict[str, Callable[..., Order]] = {
    "pick": services.order_start_picking,
    "pack": services.order_mark_packed,
    "ship": services.order_mark_shipped,
    "execute": services.order_mark_executed,
    "return": services.order_mark_returned,
}


def order_walk_to(*, order: Order, status: str, actor: Actor) -> None:
    """Moves a new order to ``status``: paying it in full by card, cancelling with a reason."""
    for step in STEPS_TO[status]:
        if step == "pay":
            services.payment_record(
                actor=actor,
                number=order.number,
                amount=order.total,
                method=PaymentMethod.CARD,
                reference=f"card-{order.number}",
            )
        elif step == "cancel":
            services.order_cancel(actor=actor, number=order.number, reason="Customer changed their mind")
        else:
            _MOVES[step](actor=actor, number=order.number)
