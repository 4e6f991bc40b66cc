"""Signed links to a customer's order-status page.

The token names the order and the order's ``status_link_version`` and is signed with the
project's secret key (HMAC, Django's signing with its own salt): a link cannot be made up for
another order or altered, and raising the order's version revokes every link given out
before. Links do not expire: customers open them from emails weeks later.
"""

from __future__ import annotations

import hmac
import re

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse

from orders.models import Order

_SALT = "oms.notifications.status-link"


def status_link_token(order: Order) -> str:
    return signing.dumps([order.number, order.status_link_version], salt=_SALT, compress=True)


def status_link_path(order: Order) -> str:
    return reverse("order-status", kwargs={"token": status_link_token(order)})


def status_link_url(order: Order) -> str:
    """The absolute link put in emails (``OMS_SITE_URL`` + path)."""
    return f"{settings.OMS_SITE_URL}{status_link_path(order)}"


def order_for_token(token: str, *, orders: QuerySet[Order] | None = None) -> Order | None:
    """The order a token opens, or None when it is forged, altered, revoked or its order gone
    (one answer for all, so a link reveals nothing about other orders). ``orders`` reads it
    with what the caller needs joined, in the same query (the order alone by default)."""
    try:
        number, version = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    order = (Order.objects.all() if orders is None else orders).filter(number=number).first()
    if order is None or order.status_link_version != version:
        return None
    return order


def _postal(code: str) -> str:
    """A postal code as written on any envelope: "00-001", "00 001" and "00001" alike."""
    return re.sub(r"[\s-]", "", code).upper()


def order_for_lookup(number: str, contact: str) -> Order | None:
    """The order numbered ``number`` whose customer email or delivery postal code is
    ``contact`` (case, spaces and hyphens aside), or None: an unknown number and a wrong
    email or postal code get the same answer, after the same work (one query, a
    constant-time comparison)."""
    number = number.strip()
    contact = contact.strip()
    order = (
        Order.objects.select_related("shipping_address")
        .filter(number__in={number, number.upper()})
        .only("number", "status_link_version", "customer_email", "shipping_address__postal_code")
        .first()
    )
    if "@" in contact:
        given, expected = contact.casefold(), order.customer_email.casefold() if order else ""
    else:
        given, expected = _postal(contact), _postal(order.shipping_address.postal_code) if order else ""
    matches = hmac.compare_digest(given.encode(), expected.encode())
    return order if order is not None and matches and given else None
