"""The notification pages for staff through the Django test client: who may see, resend and
preview; the list's filters and its query count; one order's emails; one email as sent, with
its HTML served under a policy that runs nothing; resending; the template previews; and the
admin's read-only list with its Resend action."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from notifications.rendering import RenderedEmail
from notifications.services.emails import SEND_TASK, notification_prepare
from notifications.views import EMAIL_CSP
from oms.common.models import OutboxMessage
from orders.enums import OrderStatus
from orders.models import Order
from tests.factories import make_order, make_staff

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)


def client_for(role: str | None) -> Client:
    client = Client()
    client.force_login(make_staff(role))
    return client


def said(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def notify(
    order: Order | None = None,
    *,
    kind: str = NotificationKind.ORDER_RECEIVED,
    state: str = NotificationState.SENT,
    to: str = "ann@example.com",
    subject: str | None = None,
    error: str = "",
    resend_of: Notification | None = None,
) -> Notification:
    """A notification prepared through the service, then brought to ``state`` as the sending
    task would leave it."""
    n = next(_seq)
    notification = notification_prepare(
        key=f"test:{n}",
        kind=kind,
        recipients=[to],
        rendered=RenderedEmail(subject or f"Email number {n}", f"Hello,\nthis is text {n}.", f"<p>HTML {n}</p>"),
        order=order,
        resend_of=resend_of,
    )
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        state=state,
        attempts=0 if state == NotificationState.PENDING else 1,
        sent_at=now if state == NotificationState.SENT else None,
        failed_at=now if state == NotificationState.FAILED else None,
        last_error=error,
    )
    notification.refresh_from_db()
    return notification


def shown(response: Any) -> list[int]:
    """The notifications a list page shows, in order."""
    rows = response.context["page"].object_list if "page" in response.context else response.context["notifications"]
    return [n.pk for n in rows]


def notifications_state() -> list[tuple[Any, ...]]:
    rows = Notification.objects.order_by("pk").values_list("pk", "state", "attempts", "recipients", "resend_of")
    return [*rows, ("outbox", OutboxMessage.objects.count())]


# --- who may see and act --------------------------------------------------------------------


def test_anonymous_visitors_log_in_first_roles_without_the_right_get_403_support_and_managers_see() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    notification = notify(order)
    addresses = [
        "/staff/notifications/",
        f"/staff/orders/{order.number}/notifications/",
        f"/staff/notifications/{notification.pk}/",
        f"/staff/notifications/{notification.pk}/html/",
        "/staff/notifications/previews/",
        "/staff/notifications/previews/shipped/",
        "/staff/notifications/previews/shipped/html/",
    ]
    picker, integrator, nobody = client_for("picker"), client_for("integrator"), client_for(None)
    support, manager = client_for("support"), client_for("manager")

    for address in addresses:
        anonymous = Client().get(address)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/"), address
        assert [c.get(address).status_code for c in (picker, integrator, nobody)] == [403, 403, 403], address
        assert [c.get(address).status_code for c in (support, manager)] == [200, 200], address


def test_only_those_who_may_resend_can_post_a_resend_and_nothing_changes_when_refused() -> None:
    notification = notify()
    before = notifications_state()
    address = f"/staff/notifications/{notification.pk}/resend/"

    anonymous = Client().post(address)
    refused = [client_for(role).post(address).status_code for role in ("picker", "integrator", None)]

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/")
    assert refused == [403, 403, 403]
    assert notifications_state() == before


def test_a_user_who_may_only_read_sees_no_resend_button() -> None:
    notification = notify()
    reader = make_staff(None)
    reader.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client = Client()
    client.force_login(reader)

    page = client.get(f"/staff/notifications/{notification.pk}/")
    resend = client.post(f"/staff/notifications/{notification.pk}/resend/")

    assert page.status_code == 200
    assert "Resend this email" not in page.content.decode()
    assert resend.status_code == 403


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_each_email_newest_first_with_failed_ones_and_their_error_marked() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    sent = notify(order, subject="Your order is in")
    failed = notify(order, state=NotificationState.FAILED, error="550 5.1.1 mailbox unavailable", to="x@example.com")

    response = client_for("support").get("/staff/notifications/")
    text = response.content.decode()

    assert shown(response) == [failed.pk, sent.pk]
    assert f'href="/staff/orders/{order.number}/notifications/"' in text
    assert f'href="/staff/notifications/{sent.pk}/"' in text and "Your order is in" in text
    assert "x@example.com" in text and "Order received" in text
    assert '<tr class="row-failed">' in text and "550 5.1.1 mailbox unavailable" in text
    assert 'href="?state=failed"' in text
    assert "1 email failed and has not been resent." in text


def test_the_failed_banner_counts_only_failed_emails_not_resent_yet() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    resent = notify(order, state=NotificationState.FAILED, error="550 no such user")
    notify(order, state=NotificationState.SENT, resend_of=resent)
    notify(order, kind=NotificationKind.SHIPPED, state=NotificationState.FAILED, error="550 no such user")
    twice = notify(order, kind=NotificationKind.DELIVERED, state=NotificationState.FAILED, error="550")
    notify(order, kind=NotificationKind.DELIVERED, state=NotificationState.FAILED, error="550", resend_of=twice)

    text = client_for("support").get("/staff/notifications/").content.decode()

    # The shipped email, and the delivered one whose resend failed too (counted once)
    assert "2 emails failed and have not been resent." in text


def test_the_filters_narrow_the_list_by_state_kind_order_number_and_address() -> None:
    first, second = make_order(OrderStatus.UNHANDLED), make_order(OrderStatus.UNHANDLED, email="kim@example.com")
    received = notify(first)
    failed = notify(first, kind=NotificationKind.SHIPPED, state=NotificationState.FAILED, error="refused")
    pending = notify(second, kind=NotificationKind.SHIPPED, state=NotificationState.PENDING, to="kim@example.com")
    alert = notify(kind=NotificationKind.STAFF_LOW_STOCK, to="boss@example.com")
    support = client_for("support")

    def listed(query: str) -> list[int]:
        response = support.get(f"/staff/notifications/?{query}")
        assert response.status_code == 200
        return shown(response)

    assert listed("") == [alert.pk, pending.pk, failed.pk, received.pk]
    assert listed("state=failed") == [failed.pk]
    assert listed("state=pending") == [pending.pk]
    assert listed("kind=shipped") == [pending.pk, failed.pk]
    assert listed("kind=shipped&state=sent") == []
    assert listed(f"q={first.number}") == [failed.pk, received.pk]
    assert listed(f"q={second.number.lower()}") == [pending.pk]
    assert listed("q=KIM@example") == [pending.pk]
    assert listed("q=boss") == [alert.pk]
    assert listed("q=nobody@example.com") == []


def test_a_filter_that_is_not_a_choice_is_said_and_every_notification_shown() -> None:
    one, two = notify(), notify(state=NotificationState.FAILED)

    response = client_for("support").get("/staff/notifications/?state=lost")

    assert shown(response) == [two.pk, one.pk]
    assert said(response) == [("warning", "That filter is not one of the choices: showing every notification.")]


def test_the_list_pages_by_fifty_and_keeps_the_filters_in_the_page_links() -> None:
    made = [notify(state=NotificationState.FAILED, error="refused") for _ in range(55)]
    notify()  # sent: filtered out
    support = client_for("support")

    first = support.get("/staff/notifications/?state=failed")
    second = support.get("/staff/notifications/?state=failed&page=2")

    newest_first = [n.pk for n in reversed(made)]
    assert shown(first) == newest_first[:50]
    assert shown(second) == newest_first[50:]
    assert 'href="?state=failed&amp;page=2"' in first.content.decode()
    assert "Page 2 of 2 (55 notifications)" in second.content.decode()


def test_the_list_costs_the_same_few_queries_however_many_notifications_it_shows(
    django_assert_max_num_queries: Any,
) -> None:
    orders = [make_order(OrderStatus.UNHANDLED) for _ in range(3)]
    requester = make_staff("support")
    for i in range(60):
        original = notify(orders[i % 3], state=NotificationState.FAILED if i % 4 == 0 else NotificationState.SENT)
        if i % 5 == 0:
            copy = notify(orders[i % 3], resend_of=original)
            Notification.objects.filter(pk=copy.pk).update(requested_by=requester)
    support = client_for("manager")
    support.get("/staff/notifications/")  # sessions and permissions cached as in a real visit

    # session, user, two permission reads, the failed count, the page count, the page
    with django_assert_max_num_queries(7):
        page = support.get("/staff/notifications/")
    # session, user, two permission reads, the order, its notifications
    with django_assert_max_num_queries(6):
        order_page = support.get(f"/staff/orders/{orders[0].number}/notifications/")

    assert len(shown(page)) == 50
    assert len(shown(order_page)) == Notification.objects.filter(order=orders[0]).count() > 20


# --- one order ------------------------------------------------------------------------------


def test_an_orders_page_lists_only_that_orders_emails() -> None:
    order, other = make_order(OrderStatus.UNHANDLED), make_order(OrderStatus.UNHANDLED)
    mine = [notify(order), notify(order, kind=NotificationKind.PAYMENT_CONFIRMED)]
    notify(other)
    notify(kind=NotificationKind.STAFF_LATE_ORDERS)

    response = client_for("support").get(f"/staff/orders/{order.number}/notifications/")

    assert response.status_code == 200
    assert shown(response) == [mine[1].pk, mine[0].pk]
    assert f"Notifications of {order.number}" in response.content.decode()


def test_an_order_without_emails_says_so_and_an_unknown_order_is_a_404_that_says_why() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    support = client_for("support")

    empty = support.get(f"/staff/orders/{order.number}/notifications/")
    missing = support.get("/staff/orders/NO-SUCH-1/notifications/")

    assert empty.status_code == 200
    assert f"No email about order {order.number} has been prepared yet." in empty.content.decode()
    assert missing.status_code == 404
    assert "No order has the number NO-SUCH-1. Check it and try again." in missing.content.decode()


# --- one notification -----------------------------------------------------------------------


def test_the_detail_page_shows_the_text_and_frames_the_html_in_a_sandbox() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    notification = notify(order, subject="Your order is in", state=NotificationState.FAILED, error="550 no such user")

    response = client_for("support").get(f"/staff/notifications/{notification.pk}/")
    text = response.content.decode()

    assert response.status_code == 200
    assert "Your order is in" in text and "ann@example.com" in text
    assert '<pre class="email-text">Hello,\nthis is text' in text
    assert f'sandbox="" src="/staff/notifications/{notification.pk}/html/"' in text
    assert "<p>HTML" not in text  # the HTML is only ever shown inside the frame
    assert "550 no such user" in text
    assert escape(notification.message_id) in text
    assert "Resend this email" in text


def test_a_pending_email_offers_no_resend_and_an_unknown_one_is_a_404() -> None:
    pending = notify(state=NotificationState.PENDING)
    support = client_for("support")

    page = support.get(f"/staff/notifications/{pending.pk}/")
    missing = support.get("/staff/notifications/999999/")
    missing_html = support.get("/staff/notifications/999999/html/")

    assert "Resend this email" not in page.content.decode()
    assert "it can be resent once it has been sent or has failed" in page.content.decode()
    assert missing.status_code == 404 and missing_html.status_code == 404
    assert "No notification 999999: check the address" in missing.content.decode()


def test_the_html_is_served_as_stored_under_a_policy_that_runs_nothing() -> None:
    notification = notify()
    Notification.objects.filter(pk=notification.pk).update(body_html="<p>Hi</p><script>alert(1)</script>")

    response = client_for("support").get(f"/staff/notifications/{notification.pk}/html/")

    assert response.status_code == 200
    assert response.content == b"<p>Hi</p><script>alert(1)</script>"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_detail_page_links_a_resend_and_its_original_both_ways() -> None:
    original = notify(state=NotificationState.FAILED, error="refused")
    copy = notify(resend_of=original, to="new@example.com")
    support = client_for("support")

    original_page = support.get(f"/staff/notifications/{original.pk}/").content.decode()
    copy_page = support.get(f"/staff/notifications/{copy.pk}/").content.decode()

    assert f'href="/staff/notifications/{copy.pk}/"' in original_page and "new@example.com" in original_page
    assert "Resend of" in copy_page and f'href="/staff/notifications/{original.pk}/"' in copy_page


# --- resending ------------------------------------------------------------------------------


def test_resend_makes_a_new_notification_to_the_orders_current_address_and_queues_it() -> None:
    order = make_order(OrderStatus.UNHANDLED, email="old@example.com")
    original = notify(order, state=NotificationState.FAILED, to="old@example.com", error="550 no such user")
    Order.objects.filter(pk=order.pk).update(customer_email="fixed@example.com")
    user = make_staff("support")
    client = Client()
    client.force_login(user)

    response = client.post(f"/staff/notifications/{original.pk}/resend/", follow=True)

    copy = Notification.objects.get(resend_of=original)
    assert response.redirect_chain == [(f"/staff/notifications/{copy.pk}/", 302)]
    assert said(response) == [
        (
            "success",
            "Resent: a new copy goes to fixed@example.com within a minute. This page shows how it goes.",
        )
    ]
    assert copy.recipients == ["fixed@example.com"]
    assert (copy.subject, copy.body_text, copy.body_html) == (original.subject, original.body_text, original.body_html)
    assert copy.state == NotificationState.PENDING and copy.requested_by_id == user.pk
    assert OutboxMessage.objects.filter(task=SEND_TASK, key=f"notification:{copy.pk}").count() == 1
    original.refresh_from_db()
    assert original.state == NotificationState.FAILED  # kept as it was, in the log


def test_resending_an_email_still_being_sent_says_why_and_changes_nothing() -> None:
    pending = notify(state=NotificationState.PENDING)
    before = notifications_state()

    response = client_for("support").post(f"/staff/notifications/{pending.pk}/resend/", follow=True)

    assert response.redirect_chain == [(f"/staff/notifications/{pending.pk}/", 302)]
    assert said(response) == [
        ("error", "This email is still being sent; resend it once it has been sent or has failed.")
    ]
    assert notifications_state() == before


def test_resending_an_unknown_notification_says_so_and_a_get_is_refused() -> None:
    notification = notify()
    support = client_for("support")
    before = notifications_state()

    missing = support.post("/staff/notifications/999999/resend/", follow=True)
    get = support.get(f"/staff/notifications/{notification.pk}/resend/")

    assert missing.redirect_chain == [("/staff/notifications/", 302)]
    assert said(missing) == [("error", "No notification 999999.")]
    assert get.status_code == 405
    assert notifications_state() == before


# --- previews -------------------------------------------------------------------------------


def test_the_previews_list_every_kind_and_each_renders_subject_text_and_framed_html() -> None:
    support = client_for("support")

    listing = support.get("/staff/notifications/previews/").content.decode()

    for kind in NotificationKind:
        assert f'href="/staff/notifications/previews/{kind.value}/"' in listing, kind
        page = support.get(f"/staff/notifications/previews/{kind.value}/")
        html = support.get(f"/staff/notifications/previews/{kind.value}/html/")
        assert page.status_code == 200 and html.status_code == 200, kind
        rendered = page.context["rendered"]
        assert rendered.subject and escape(rendered.subject) in page.content.decode(), kind
        assert f'sandbox="" src="/staff/notifications/previews/{kind.value}/html/"' in page.content.decode()
        assert html.content.decode() == rendered.html and html["Content-Security-Policy"] == EMAIL_CSP, kind


def test_an_unknown_preview_is_a_404() -> None:
    support = client_for("support")

    page = support.get("/staff/notifications/previews/birthday/")
    html = support.get("/staff/notifications/previews/birthday/html/")

    assert page.status_code == 404 and html.status_code == 404
    assert "No email birthday" in page.content.decode()


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_shows_notifications_read_only_and_resends_the_selected_ones(admin_client: Client) -> None:
    sent, failed = notify(), notify(state=NotificationState.FAILED, error="refused")
    pending = notify(state=NotificationState.PENDING)

    changelist = admin_client.get("/admin/notifications/notification/")
    add = admin_client.get("/admin/notifications/notification/add/")
    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "resend", "_selected_action": [sent.pk, failed.pk, pending.pk]},
        follow=True,
    )

    assert changelist.status_code == 200 and add.status_code == 403
    resent = Notification.objects.filter(resend_of__isnull=False).order_by("resend_of")
    assert list(resent.values_list("resend_of", flat=True)) == [sent.pk, failed.pk]
    assert said(response) == [
        (
            "error",
            f"Notification {pending.pk} not resent: This email is still being sent; resend it once it has been "
            "sent or has failed.",
        ),
        ("success", "Resent 2 notifications: each new copy goes out within a minute."),
    ]


def test_the_admin_list_searches_by_address_and_costs_few_queries(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    orders = [make_order(OrderStatus.UNHANDLED) for _ in range(3)]
    for i in range(40):
        original = notify(orders[i % 3])
        if i % 4 == 0:
            notify(orders[i % 3], resend_of=original)
    alert = notify(kind=NotificationKind.STAFF_LOW_STOCK, to="boss@example.com")
    admin_client.get("/admin/notifications/notification/")

    # session, user, the two counts, the page with its orders and originals, two for the dates
    with django_assert_max_num_queries(7):
        everything = admin_client.get("/admin/notifications/notification/")
    found = admin_client.get("/admin/notifications/notification/?q=boss@")

    assert everything.status_code == 200
    assert [n.pk for n in found.context["cl"].result_list] == [alert.pk]
