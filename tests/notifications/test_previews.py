"""Previews of every email with sample data: rendered through the real templates, touching
no database, and refusing a kind that does not exist."""

from __future__ import annotations

import pytest
from django.test import override_settings
from pytest_django import DjangoAssertNumQueries

from notifications.enums import CUSTOMER_KINDS, STAFF_KINDS, NotificationKind
from notifications.models import Notification
from notifications.previews import PREVIEW_KINDS, preview
from oms.common.errors import NotFound
from orders.models import Order, OrderLine


def test_every_kind_has_a_preview_customer_emails_first() -> None:
    assert sorted(PREVIEW_KINDS) == sorted(NotificationKind.values)
    assert len(PREVIEW_KINDS) == len(set(PREVIEW_KINDS))
    assert set(PREVIEW_KINDS[: len(CUSTOMER_KINDS)]) == CUSTOMER_KINDS
    assert set(PREVIEW_KINDS[len(CUSTOMER_KINDS) :]) == STAFF_KINDS


@pytest.mark.parametrize("kind", PREVIEW_KINDS)
def test_preview_renders_all_three_parts_without_the_database(kind: str) -> None:
    # No django_db mark: pytest-django fails any query, so the preview makes none.
    email = preview(kind)

    assert email.subject and "\n" not in email.subject
    assert email.html.startswith("<!DOCTYPE html>")
    for part in (email.subject, email.text, email.html):
        assert "{{" not in part and "{%" not in part


def test_a_preview_renders_the_same_every_time() -> None:
    # The staff page and the frame inside it render a preview separately.
    for kind in PREVIEW_KINDS:
        assert preview(kind) == preview(kind), kind


@pytest.mark.parametrize("kind", sorted(CUSTOMER_KINDS))
def test_customer_preview_shows_a_sample_order_and_an_example_status_link(kind: str) -> None:
    email = preview(kind)

    assert "OMS-001042" in email.subject
    assert "http://localhost:8000/track/example-link/" in email.text.split()
    assert 'href="http://localhost:8000/track/example-link/"' in email.html


def test_preview_uses_the_shop_branding() -> None:
    with override_settings(OMS_SHOP_NAME="Kestrel Outfitters", OMS_SHOP_LOCALE="de_DE"):
        email = preview(NotificationKind.PAYMENT_CONFIRMED)

    assert "Kestrel Outfitters" in email.text and "Kestrel Outfitters" in email.html
    assert "79,29\xa0€" in email.text


@pytest.mark.django_db
def test_previews_write_nothing(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    before = (Order.objects.count(), OrderLine.objects.count(), Notification.objects.count())

    with django_assert_num_queries(0):
        for kind in PREVIEW_KINDS:
            preview(kind)

    assert (Order.objects.count(), OrderLine.objects.count(), Notification.objects.count()) == before


def test_an_unknown_kind_is_not_found_and_the_message_lists_the_kinds() -> None:
    with pytest.raises(NotFound) as raised:
        preview("newsletter")

    assert raised.value.code == "template_not_found"
    assert raised.value.extra == {"kind": "newsletter", "kinds": PREVIEW_KINDS}
    assert "newsletter" in raised.value.message and "order_received" in raised.value.message
