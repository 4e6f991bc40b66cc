"""The customer's emails about a return (RMA), as the outbox sends them for a real return made
with the returns services: the request with its number, lines and reasons; the instructions
with the warehouse's address; the refusal with its reason; what arrived; the refund naming
the return. One email per cause, however often the handler runs, and one "received" email per
return, never an extra one when the whole order came back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.mail import EmailMessage

from fulfillment.enums import PackingStatus
from fulfillment.models import PackingSession, PackingStation
from inventory.models import Warehouse
from notifications import tasks
from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from notifications.status_links import order_for_token
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus
from orders.models import Order
from returns.models import Return
from returns.services import return_cancel
from tests.factories import SYSTEM, make_order, make_staff
from tests.notifications.return_helpers import (
    BOTH,
    EMAIL_TASK,
    approved,
    received,
    refunded,
    rejected,
    requested,
)
from tests.returns.helpers import delivered_order
from tests.shipping.helpers import dispatch_address

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

K = NotificationKind
X = "\N{MULTIPLICATION SIGN}"  # how the emails write "2 x mug"


def run_emails(*topics: str) -> list[str]:
    """Runs every pending email message of ``topics`` once, as a worker would."""
    ids = OutboxMessage.objects.filter(task=EMAIL_TASK, state=OutboxState.PENDING, payload__topic__in=topics)
    return [tasks.email_customer(pk) for pk in ids.order_by("pk").values_list("pk", flat=True)]


def sent(kind: str, ret: Return | None = None) -> list[Notification]:
    notifications = Notification.objects.filter(kind=kind, state=NotificationState.SENT)
    if ret is not None:
        notifications = notifications.filter(order_id=ret.order_id)
    return list(notifications.order_by("pk"))


def the_email(kind: str, ret: Return) -> Notification:
    (notification,) = sent(kind, ret)
    return notification


def line_names(order: Order) -> dict[str, str]:
    return {line.sku: line.name for line in order.lines.all()}


# --- requested ------------------------------------------------------------------------------


def test_the_request_email_gives_the_rma_number_the_lines_with_their_reasons_and_what_happens_next(
    mailoutbox: list[EmailMessage],
) -> None:
    order = delivered_order()
    ret = requested(order, *BOTH, comment="One mug came chipped.")

    assert run_emails("return.requested") == ["done"]

    email = the_email(K.RETURN_REQUESTED, ret)
    names = line_names(order)
    assert email.subject == f"We have your return request {ret.number} for order {order.number}"
    assert email.recipients == [order.customer_email]
    assert f"Your return number is {ret.number}" in email.body_text
    assert f"2 {X} {names['MUG']} (MUG): Arrived damaged" in email.body_text
    assert f"1 {X} {names['TEE']} (TEE): Too small" in email.body_text
    assert "Your note: One mug came chipped." in email.body_text
    assert "we check your request and email you" in email.body_text
    assert "please do not send anything before" in email.body_text
    (link,) = {word for word in email.body_text.split() if "/track/" in word}
    assert f'href="{link}"' in email.body_html
    opened = order_for_token(link.partition("/track/")[2].removesuffix("/"))
    assert opened is not None and opened.pk == order.pk
    assert "Arrived damaged" in email.body_html and "Too small" in email.body_html
    assert [m.subject for m in mailoutbox] == [email.subject]


# --- approved -------------------------------------------------------------------------------


def test_the_approval_email_says_how_to_pack_label_and_where_to_send_the_parcel() -> None:
    order = delivered_order()
    dispatch_address("MAIN")  # the warehouse the order's stock is in: Demo Shop, Pruszków
    ret = approved(order, *BOTH)

    assert run_emails("return.approved") == ["done"]

    email = the_email(K.RETURN_APPROVED, ret)
    names = line_names(order)
    assert email.subject == f"Your return {ret.number} for order {order.number} is accepted: how to send it"
    text = email.body_text
    assert "Pack the items listed below" in text
    assert f"Write the return number {ret.number} on the parcel, or put a note with it inside" in text
    assert "Send the parcel to:\n\n   Demo Shop\n   Magazynowa 3\n   05-800 Pruszków\n   Poland\n" in text
    assert "Once the parcel has arrived and we have checked the items, we refund what is due" in text
    assert f"2 {X} {names['MUG']} (MUG)" in text and f"1 {X} {names['TEE']} (TEE)" in text
    assert "Magazynowa 3" in email.body_html and "05-800 Pruszków" in email.body_html
    assert "/track/" in email.body_html


def test_the_parcel_goes_to_the_warehouse_the_order_left_from() -> None:
    order = delivered_order()
    dispatch_address("MAIN")
    west = Warehouse.objects.create(
        code="WEST", name="West", sender_name="Shop West", line1="Portowa 9", postal_code="70-001", city="Szczecin",
        country="PL",
    )  # fmt: skip
    station = PackingStation.objects.create(code="W-1", name="West 1", warehouse=west)
    PackingSession.objects.create(
        order=order, station=station, packer=make_staff("packer"), status=PackingStatus.COMPLETED
    )
    ret = approved(order)

    run_emails("return.approved")

    text = the_email(K.RETURN_APPROVED, ret).body_text
    assert "Shop West\n   Portowa 9\n   70-001 Szczecin\n   Poland" in text
    assert "Magazynowa" not in text


def test_without_any_warehouse_address_the_customer_is_asked_to_write_for_it() -> None:
    order = delivered_order()  # warehouse MAIN has no address
    ret = approved(order)

    run_emails("return.approved")

    text = the_email(K.RETURN_APPROVED, ret).body_text
    assert "Send the parcel to" not in text
    assert "Write to us at shop@localhost and mention the return number: we send you the address" in text


# --- rejected -------------------------------------------------------------------------------


def test_the_rejection_email_gives_the_reason_and_how_to_reach_the_shop() -> None:
    ret = rejected("The mugs show signs of use <washed> & scratched.")
    order = ret.order

    assert run_emails("return.rejected") == ["done"]

    email = the_email(K.RETURN_REJECTED, ret)
    assert email.subject == f"We cannot accept your return {ret.number} for order {order.number}"
    assert "Our reason: The mugs show signs of use <washed> & scratched." in email.body_text
    assert "Our reason: The mugs show signs of use &lt;washed&gt; &amp; scratched." in email.body_html
    assert "Please do not send these items back." in email.body_text
    assert f"write to us at shop@localhost and mention the return number {ret.number}" in email.body_text
    assert 'href="mailto:shop@localhost"' in email.body_html


# --- received -------------------------------------------------------------------------------


def test_the_arrival_email_says_what_arrived_of_each_line_and_that_the_refund_follows() -> None:
    order = delivered_order()
    ret = received(order, *BOTH, counts={"MUG": 2, "TEE": 0})

    assert run_emails("return.received") == ["done"]

    email = the_email(K.RETURN_RECEIVED, ret)
    names = line_names(order)
    assert email.subject == f"We have received your return {ret.number} for order {order.number}"
    assert f"2 of 2 {X} {names['MUG']} (MUG)\n" in email.body_text
    assert f"0 of 1 {X} {names['TEE']} (TEE): not in the parcel\n" in email.body_text
    assert "We now check each item and refund what is due" in email.body_text
    assert "2 of 2" in email.body_html and "not in the parcel" in email.body_html


def test_a_whole_order_returned_in_one_return_gets_one_arrival_email_naming_the_return(
    mailoutbox: list[EmailMessage],
) -> None:
    order = delivered_order()
    ret = received(order, *BOTH)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RETURNED
    assert OutboxMessage.objects.filter(task=EMAIL_TASK, payload__topic="order.returned").exists()

    assert run_emails("return.received", "order.returned") == ["done", "done"]

    (email,) = sent(K.RETURN_RECEIVED)
    assert ret.number in email.subject
    assert [m.subject for m in mailoutbox] == [email.subject]


def test_a_whole_order_returned_over_two_returns_gets_one_arrival_email_per_return() -> None:
    order = delivered_order()
    first = received(order, ("MUG", 2, "damaged"))
    second = received(order, ("TEE", 1, "too_small"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RETURNED

    run_emails("return.received", "order.returned")

    subjects = [n.subject for n in sent(K.RETURN_RECEIVED)]
    assert len(subjects) == 2
    assert first.number in subjects[0] and second.number in subjects[1]


def test_an_order_returned_to_sender_without_a_return_keeps_its_arrival_email() -> None:
    order = make_order(OrderStatus.RETURNED)

    assert run_emails("order.returned") == ["done"]

    (email,) = sent(K.RETURN_RECEIVED)
    assert email.subject == f"We have received your return of order {order.number}"
    assert "RMA" not in email.body_text


# --- the refund -----------------------------------------------------------------------------


def test_the_refund_email_names_the_return_and_what_came_back() -> None:
    order = delivered_order()
    ret = refunded(order, ("MUG", 2, "damaged"))

    assert run_emails("refund.issued") == ["done"]

    email = the_email(K.REFUND_ISSUED, ret)
    assert email.subject == f"Refund of €40.00 for your return {ret.number} (order {order.number})"
    assert f"we have refunded €40.00 for your return {ret.number} from order {order.number}." in email.body_text
    assert f"What you sent back:\n  2 {X} {line_names(order)['MUG']} (MUG)\n" in email.body_text
    assert "Reason:" not in email.body_text  # "Return RMA-..." would only repeat the number
    assert ret.number in email.body_html and "What you sent back" in email.body_html


def test_a_note_given_with_a_returns_refund_is_its_reason() -> None:
    ret = refunded(None, ("MUG", 2, "damaged"), note="Less 5.00 for the missing box")

    run_emails("refund.issued")

    email = the_email(K.REFUND_ISSUED, ret)
    assert "Reason: Less 5.00 for the missing box" in email.body_text
    assert f"Reason: Return {ret.number}" not in email.body_text


# --- one email per cause --------------------------------------------------------------------


def test_a_return_walked_to_its_refund_gets_one_email_per_step_and_none_for_inspection_or_cancelling(
    mailoutbox: list[EmailMessage],
) -> None:
    order = delivered_order()
    ret = refunded(order, ("MUG", 2, "damaged"))
    withdrawn = requested(order, ("TEE", 1, "changed_mind"))
    return_cancel(actor=SYSTEM, number=withdrawn.number, reason="The customer keeps it")

    run_emails(
        "return.requested",
        "return.approved",
        "return.received",
        "return.inspected",
        "return.refunded",
        "return.cancelled",
        "refund.issued",
    )

    about_returns = [K.RETURN_REQUESTED, K.RETURN_APPROVED, K.RETURN_REJECTED, K.RETURN_RECEIVED, K.REFUND_ISSUED]
    mine = Notification.objects.filter(order=order, kind__in=about_returns)
    assert sorted(mine.values_list("kind", flat=True)) == sorted(
        [K.RETURN_REQUESTED, K.RETURN_REQUESTED, K.RETURN_APPROVED, K.RETURN_RECEIVED, K.REFUND_ISSUED]
    )
    assert {n.subject for n in mine.filter(kind=K.RETURN_REQUESTED)} == {
        f"We have your return request {r.number} for order {order.number}" for r in (ret, withdrawn)
    }
    assert len(mailoutbox) == 5


def test_each_return_email_goes_once_however_often_its_message_runs(mailoutbox: list[EmailMessage]) -> None:
    ret = rejected("Outside the return window")
    run_emails("return.requested", "return.rejected")
    assert len(mailoutbox) == 2

    # A worker killed after sending, before the outbox recorded it: the messages come back,
    # and the same payloads arrive under other messages too (a replayed relay).
    messages = list(OutboxMessage.objects.filter(task=EMAIL_TASK, payload__topic__startswith="return."))
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(state=OutboxState.PENDING, locked_until=None)
    for message in messages:
        OutboxMessage.objects.create(
            key=f"replayed:{message.pk}", task=EMAIL_TASK, payload=message.payload, available_at=message.available_at
        )

    assert run_emails("return.requested", "return.rejected") == ["done"] * 4

    assert len(mailoutbox) == 2
    assert Notification.objects.filter(order_id=ret.order_id, kind__startswith="return_").count() == 2


def test_the_key_names_the_order_the_return_and_its_event() -> None:
    ret = requested()
    payload: dict[str, Any] = OutboxMessage.objects.get(task=EMAIL_TASK, payload__topic="return.requested").payload

    run_emails("return.requested")

    email = the_email(K.RETURN_REQUESTED, ret)
    assert email.key == f"email:{K.RETURN_REQUESTED}:{ret.order.number}:{ret.number}:{payload['event']}"
