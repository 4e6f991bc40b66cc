"""The customer's links to the order-status page: revoking the ones given out.

Links are signed with the order's ``status_link_version`` (notifications/status_links.py);
raising it makes every link sent so far open nothing. Staff do it when a customer has shared
an email by mistake; the emails sent afterwards carry the new links.
"""

from __future__ import annotations

from django.db import transaction

from oms.common.actors import Actor
from orders.enums import OrderEventKind
from orders.locks import lock_order
from orders.models import Order
from orders.services.lifecycle import _record_event


@transaction.atomic
def order_revoke_status_links(*, actor: Actor, number: str, reason: str = "") -> Order:
    """Makes every status link given out for order ``number`` invalid, recorded in its
    timeline. Raises NotFound when there is no such order."""
    order = lock_order(number=number)
    order.status_link_version += 1
    order.save(update_fields=["status_link_version", "updated_at"])
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.STATUS_LINKS_REVOKED,
        note=reason,
        data={"status_link_version": order.status_link_version},
    )
    return order
