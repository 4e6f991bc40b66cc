"""The staff returns pages: the queue lists, filters and searches returns in a fixed number of
queries; a return's page offers only the actions its status and the user's role allow and the
server refuses the others; the whole flow by POSTs (approve, receive, inspect into a bin,
refund); refusals show the service's sentence and change nothing; staff start a return from
the order page; every form is CSRF-protected and every input labelled."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from inventory.models import StockLevel
from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order, Refund
from returns.enums import ReturnStatus
from returns.models import Return, ReturnEvent, ReturnInspection
from returns.services import (
    ReturnLineData,
    return_approve,
    return_inspect,
    return_receive,
    return_reject,
    return_request,
)
from tests.factories import SYSTEM, make_order, make_staff
from tests.fulfillment.helpers import bin_
from tests.returns.helpers import delivered_order, returns_state

pytestmark = pytest.mark.django_db

R = ReturnStatus
CUSTOMER = Actor.customer()
QUEUE = "/staff/returns/"


def client_for(role: str, username: str | None = None) -> Client:
    client = Client()
    client.force_login(make_staff(role, username))
    return client


def url(number: str, action: str = "") -> str:
    return f"{QUEUE}{number}/" + (f"{action}/" if action else "")


def start_url(order: Order) -> str:
    return f"/staff/orders/{order.number}/returns/new/"


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def ask(order: Order, *lines: tuple[str, int, str], comment: str = "") -> Return:
    return return_request(
        actor=CUSTOMER,
        order_number=order.number,
        lines=[ReturnLineData(sku, quantity, reason) for sku, quantity, reason in lines],
        comment=comment,
    )


def walk(ret: Return, status: str) -> Return:
    """Takes a requested return to ``status`` through the services (every unit received
    comes back into its bin)."""
    if status in (R.APPROVED, R.RECEIVED, R.INSPECTED):
        return_approve(actor=SYSTEM, number=ret.number)
    if status in (R.RECEIVED, R.INSPECTED):
        return_receive(actor=SYSTEM, number=ret.number)
    if status == R.INSPECTED:
        for line in ret.lines.select_related("order_line"):
            return_inspect(
                actor=SYSTEM,
                number=ret.number,
                sku=line.order_line.sku,
                outcome="restock",
                quantity=line.quantity,
                location=bin_("A-01", 10),
            )
    if status == R.REJECTED:
        return_reject(actor=SYSTEM, number=ret.number, reason="Worn")
    return Return.objects.get(pk=ret.pk)


def returned(status: str = R.REQUESTED, **order: Any) -> Return:
    """A return of one mug and one tee of a delivered order, walked to ``status``."""
    return walk(ask(delivered_order(**order), ("MUG", 1, "damaged"), ("TEE", 1, "too_small")), status)


def on_hand(code: str, sku: str) -> int:
    level = StockLevel.objects.filter(location__code=code, product__sku=sku).first()
    return level.on_hand if level is not None else 0


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_lists_the_returns_needing_work_newest_first_with_what_each_is() -> None:
    requested = returned()
    rejected = returned(R.REJECTED)
    approved = returned(R.APPROVED)

    response = client_for("support").get(QUEUE)

    assert response.status_code == 200
    assert [row["ret"].number for row in response.context["rows"]] == [approved.number, requested.number]
    html = response.content.decode()
    assert rejected.number not in html
    row = response.context["rows"][1]
    assert (row["units"], row["reasons"]) == (2, "Arrived damaged, Too small")
    for text in (
        f'href="/staff/returns/{requested.number}/"',
        f'href="/staff/orders/{requested.order.number}/"',
        requested.order.customer_name,
        "Requested",
        "Approved",
    ):
        assert text in html, text


def test_the_queue_filters_by_status_and_finds_a_return_by_rma_or_order_number() -> None:
    requested = returned()
    rejected = returned(R.REJECTED)
    client = client_for("support")

    def listed(query: str) -> list[str]:
        response = client.get(QUEUE + query)
        assert response.status_code == 200
        return [row["ret"].number for row in response.context["rows"]]

    assert listed("?status=rejected") == [rejected.number]
    assert listed("?status=all") == [rejected.number, requested.number]
    assert listed(f"?status=all&q={rejected.number.lower()}") == [rejected.number]
    assert listed(f"?status=all&q={requested.order.number}") == [requested.number]
    assert listed(f"?q={rejected.order.number}") == []  # rejected needs no work
    response = client.get(QUEUE + "?status=lost")
    assert "That filter is not one of the choices" in " ".join(messages_of(response))
    assert [row["ret"].number for row in response.context["rows"]] == [requested.number]


def test_the_queue_reads_in_the_same_number_of_queries_however_many_returns() -> None:
    client = client_for("support")
    returned()
    client.get(QUEUE)  # the session and permission caches warm up
    with CaptureQueriesContext(connection) as few:
        assert client.get(QUEUE).status_code == 200

    for _ in range(6):
        returned()
    with CaptureQueriesContext(connection) as many:
        response = client.get(QUEUE)

    assert len(response.context["rows"]) == 7
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(few) <= 8, [q["sql"] for q in few.captured_queries]  # session, user, permissions, then 4 reads


@pytest.mark.parametrize("path", [QUEUE, "detail"])
def test_a_picker_may_not_see_returns_and_a_visitor_is_sent_to_log_in(path: str) -> None:
    ret = returned()
    target = url(ret.number) if path == "detail" else path

    assert client_for("picker").get(target).status_code == 403
    anonymous = Client().get(target)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_the_staff_menu_shows_returns_to_the_roles_that_see_them() -> None:
    assert 'href="/staff/returns/"' in client_for("shipper").get("/staff/").content.decode()
    assert 'href="/staff/returns/"' not in client_for("picker").get("/staff/").content.decode()


# --- one return -----------------------------------------------------------------------------


def test_the_page_of_a_return_shows_its_order_lines_inspections_refund_and_timeline() -> None:
    ret = walk(ask(delivered_order(), ("MUG", 2, "damaged"), comment="Both handles broke"), R.RECEIVED)
    return_inspect(
        actor=Actor.for_user(make_staff("shipper", "sam")),
        number=ret.number,
        sku="MUG",
        outcome="scrap",
        quantity=1,
        note="Handle glued, cannot be sold",
    )

    response = client_for("support").get(url(ret.number))

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        f"Return {ret.number}",
        f'href="/staff/orders/{ret.order.number}/"',
        ret.order.customer_name,
        "Both handles broke",
        "Arrived damaged",
        "Handle glued, cannot be sold",
        "Inspected 1 x MUG: scrapped",
        "Approved → Received",
        "sam",
        "Not refunded yet",
    ):
        assert text in html, text
    [row] = response.context["page"].lines
    assert (row.line.quantity_received, row.scrapped, row.restocked, row.left_to_inspect) == (2, 1, 0, 1)


def test_the_page_of_a_return_reads_in_the_same_number_of_queries_however_many_lines() -> None:
    small = returned(R.RECEIVED)
    big_order = delivered_order({"CUP": 3, "HAT": 2, "SOCK": 4, "BAG": 1})
    big = walk(
        ask(big_order, ("CUP", 3, "damaged"), ("HAT", 2, "too_small"), ("SOCK", 4, "other"), ("BAG", 1, "defective"),
            comment="Too many things wrong"),
        R.RECEIVED,
    )  # fmt: skip
    return_inspect(actor=SYSTEM, number=big.number, sku="SOCK", outcome="scrap", quantity=3, note="Worn")
    client = client_for("manager")
    client.get(url(small.number))

    counts = {}
    for name, ret in (("small", small), ("big", big)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(ret.number)).status_code == 200
        counts[name] = len(queries)

    assert counts["big"] == counts["small"], counts
    assert counts["small"] <= 9, counts  # session, user, permissions, then 5 reads


@pytest.mark.parametrize(
    ("status", "role", "offered"),
    [
        (R.REQUESTED, "support", {"approve", "reject", "cancel"}),
        (R.REQUESTED, "shipper", set()),
        (R.APPROVED, "shipper", {"receive"}),
        (R.RECEIVED, "shipper", {"inspect"}),
        (R.INSPECTED, "manager", {"refund"}),
        (R.REFUNDED, "manager", set()),
        (R.REJECTED, "support", set()),
    ],
)
def test_only_the_actions_valid_for_the_status_and_the_role_are_offered(
    status: str, role: str, offered: set[str]
) -> None:
    ret = returned(status) if status != R.REFUNDED else refunded()

    response = client_for(role).get(url(ret.number))

    assert response.status_code == 200
    assert response.context["page"].action_names == offered
    html = response.content.decode()
    for action in ("approve", "reject", "cancel", "receive", "inspect", "refund"):
        assert (f'action="{url(ret.number, action)}"' in html) == (action in offered), action


def refunded() -> Return:
    ret = returned(R.INSPECTED)
    client_for("manager").post(
        url(ret.number, "refund"),
        {"amount": "40.00", "method": "card", "reference": "re-rma", "note": "", "confirmed": "yes"},
    )
    return Return.objects.get(pk=ret.pk)


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        ("picker", "approve", {"note": ""}),
        ("packer", "reject", {"reason": "Worn", "confirmed": "yes"}),
        ("picker", "cancel", {"reason": "Kept it", "confirmed": "yes"}),
        ("packer", "receive", {}),
    ],
)
def test_the_server_refuses_an_action_the_role_may_not_take_and_nothing_changes(
    role: str, action: str, body: dict[str, str]
) -> None:
    ret = returned(R.APPROVED if action == "receive" else R.REQUESTED)
    before = returns_state()

    response = client_for(role).post(url(ret.number, action), body)

    assert response.status_code == 403
    assert returns_state() == before


def test_an_unknown_return_is_a_404_page_with_a_sentence() -> None:
    response = client_for("support").get(url("RMA-999999"))

    assert response.status_code == 404
    assert "There is no return RMA-999999" in response.content.decode()


# --- the whole flow by POSTs ----------------------------------------------------------------


def test_staff_approve_receive_inspect_into_a_bin_and_refund_a_return() -> None:
    ret = ask(delivered_order(), ("MUG", 2, "damaged"), ("TEE", 1, "too_small"))
    order = ret.order
    support, shipper, manager = client_for("support", "sue"), client_for("shipper", "sam"), client_for("manager")
    mugs_before = on_hand("A-01", "MUG")
    page = shipper.get(url(ret.number))
    tee_line = next(row.line for row in page.context["page"].lines if row.order_line.sku == "TEE")
    mug_line = next(row.line for row in page.context["page"].lines if row.order_line.sku == "MUG")

    approved = support.post(url(ret.number, "approve"), {"note": "Photos show the damage"}, follow=True)
    assert approved.redirect_chain == [(url(ret.number), 302)]
    assert f"Return {ret.number} is approved" in " ".join(messages_of(approved))

    receive = shipper.get(url(ret.number)).context["actions"][0][1]
    assert receive[f"qty_{mug_line.pk}"].initial == 2  # each line starts at what was asked for
    received = shipper.post(
        url(ret.number, "receive"), {f"qty_{mug_line.pk}": "2", f"qty_{tee_line.pk}": "1", "note": ""}, follow=True
    )
    assert "3 units came back" in " ".join(messages_of(received))

    restocked = shipper.post(
        url(ret.number, "inspect"),
        {"sku": "MUG", "quantity": "2", "outcome": "restock", "location": str(bin_("A-01", 10).pk), "note": ""},
        follow=True,
    )
    assert "2 units of MUG back in bin A-01." in messages_of(restocked)
    assert on_hand("A-01", "MUG") == mugs_before + 2
    scrapped = shipper.post(
        url(ret.number, "inspect"),
        {"sku": "TEE", "quantity": "1", "outcome": "scrap", "location": "", "note": "Stained"},
        follow=True,
    )
    assert "Every unit is inspected" in " ".join(messages_of(scrapped))

    form = manager.get(url(ret.number)).context["actions"][0][1]
    assert (form["amount"].initial, form["method"].initial) == (Decimal("60.00"), "card")
    body = {"amount": "60.00", "method": "card", "reference": "re-rma-1", "note": "Goodwill"}
    confirm = manager.post(url(ret.number, "refund"), body)
    assert confirm.status_code == 200 and "Are you sure?" in confirm.content.decode()
    assert Refund.objects.filter(order=order).count() == 0
    done = manager.post(url(ret.number, "refund"), {**body, "confirmed": "yes"}, follow=True)

    assert "Refund of 60.00 EUR recorded" in " ".join(messages_of(done))
    ret.refresh_from_db()
    refund = Refund.objects.get(order=order)
    assert (ret.status, ret.refund_id, refund.amount, refund.reference) == (
        R.REFUNDED, refund.pk, Decimal("60.00"), "re-rma-1"
    )  # fmt: skip
    order.refresh_from_db()
    assert (order.amount_refunded, order.status) == (Decimal("60.00"), OrderStatus.RETURNED)
    who = list(ReturnEvent.objects.filter(ret=ret).order_by("id").values_list("to_status", "actor_label"))
    assert (R.APPROVED, "sue") in who and (R.RECEIVED, "sam") in who
    assert ReturnInspection.objects.filter(line__ret=ret, actor_label="sam").count() == 3


def test_a_refund_of_more_than_was_paid_shows_the_services_sentence_and_changes_nothing() -> None:
    ret = returned(R.INSPECTED)
    before = returns_state()

    response = client_for("manager").post(
        url(ret.number, "refund"),
        {"amount": "5000.00", "method": "card", "reference": "too-much", "note": "", "confirmed": "yes"},
        follow=True,
    )

    assert response.redirect_chain == [(url(ret.number), 302)]
    [message] = messages_of(response)
    assert f"Order {ret.order.number} has" in message and "a refund of 5000.00 EUR is more than that" in message
    assert returns_state() == before


def test_rejecting_asks_for_confirmation_then_rejects_with_the_reason() -> None:
    ret = returned()
    client = client_for("support")

    confirm = client.post(url(ret.number, "reject"), {"reason": "Used for months"})
    assert confirm.status_code == 200 and "Are you sure?" in confirm.content.decode()
    assert Return.objects.get(pk=ret.pk).status == R.REQUESTED

    client.post(url(ret.number, "reject"), {"reason": "Used for months", "confirmed": "yes"})
    assert Return.objects.filter(pk=ret.pk, status=R.REJECTED, decision_note="Used for months").exists()


def test_receiving_more_than_was_asked_for_is_refused_with_a_sentence_and_changes_nothing() -> None:
    ret = returned(R.APPROVED)
    lines = {line.order_line.sku: line for line in ret.lines.select_related("order_line")}
    before = returns_state()

    response = client_for("shipper").post(
        url(ret.number, "receive"), {f"qty_{lines['MUG'].pk}": "5", f"qty_{lines['TEE'].pk}": "1"}, follow=True
    )

    name = lines["MUG"].order_line.name
    assert messages_of(response) == [f"{name} (MUG): units received: At most 1 were asked back."]
    assert returns_state() == before


def test_inspecting_without_a_bin_shows_what_the_service_needs_and_changes_nothing() -> None:
    ret = returned(R.RECEIVED)
    before = returns_state()

    response = client_for("shipper").post(
        url(ret.number, "inspect"), {"sku": "MUG", "quantity": "1", "outcome": "restock", "location": ""}, follow=True
    )

    assert messages_of(response) == [
        "The inspection cannot be recorded as it is. Choose the bin the units go back into."
    ]
    assert returns_state() == before


# --- starting a return from the order page --------------------------------------------------


def test_the_order_page_offers_to_start_a_return_to_support_and_lists_the_orders_returns() -> None:
    ret = returned()
    order = ret.order

    support = client_for("support").get(f"/staff/orders/{order.number}/").content.decode()
    shipper = client_for("shipper").get(f"/staff/orders/{order.number}/").content.decode()

    assert f'href="{start_url(order)}"' in support and "Start a return" in support
    assert f'href="{start_url(order)}"' not in shipper
    for html in (support, shipper):
        assert f'href="/staff/returns/{ret.number}/"' in html


def test_an_order_not_delivered_offers_no_return() -> None:
    order = make_order(OrderStatus.SHIPPED)
    client = client_for("support")

    assert start_url(order) not in client.get(f"/staff/orders/{order.number}/").content.decode()
    response = client.get(start_url(order), follow=True)
    assert "a return can be asked for once the order has been delivered" in " ".join(messages_of(response))


def test_support_starts_a_return_on_the_customers_behalf() -> None:
    order = delivered_order()
    lines = {line.sku: line.pk for line in order.lines.all()}
    client = client_for("support", "sue")

    form = client.get(start_url(order))
    assert form.status_code == 200
    html = form.content.decode()
    assert f'name="qty_{lines["MUG"]}"' in html and 'max="2"' in html
    assert "allow_late" not in html  # only managers may accept late returns

    response = client.post(
        start_url(order),
        {
            f"qty_{lines['MUG']}": "1",
            f"reason_{lines['MUG']}": "defective",
            f"qty_{lines['TEE']}": "0",
            f"reason_{lines['TEE']}": "",
            "comment": "Called the shop: it does not heat",
        },
    )

    ret = Return.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == url(ret.number)
    assert (ret.status, ret.requested_by, ret.comment) == (R.REQUESTED, "sue", "Called the shop: it does not heat")
    assert list(ret.lines.values_list("order_line__sku", "quantity", "reason")) == [("MUG", 1, "defective")]


def test_asking_for_more_than_is_left_shows_the_services_sentence_and_writes_nothing() -> None:
    order = delivered_order()
    ask(order, ("MUG", 2, "damaged"))
    lines = {line.sku: line.pk for line in order.lines.all()}
    before = returns_state()

    response = client_for("support").post(
        start_url(order), {f"qty_{lines['TEE']}": "2", f"reason_{lines['TEE']}": "too_small", "comment": ""}
    )

    assert response.status_code == 400
    assert "Only 1 of 1 TEE can still be returned." in " ".join(messages_of(response))
    assert returns_state() == before


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_after_the_window_only_a_manager_may_start_a_return_by_ticking_late() -> None:
    order = delivered_order(days_ago=20)
    mug = order.lines.get(sku="MUG").pk
    body = {f"qty_{mug}": "1", f"reason_{mug}": "damaged", "comment": ""}
    before = returns_state()

    support = client_for("support")
    refused = support.get(start_url(order), follow=True)
    assert "14-day return window" in " ".join(messages_of(refused))
    assert support.post(start_url(order), {**body, "allow_late": "on"}).status_code == 403
    manager = client_for("manager")
    assert "After the return window" in manager.get(start_url(order)).content.decode()
    not_ticked = manager.post(start_url(order), body)
    assert not_ticked.status_code == 409 and "14-day return window" in " ".join(messages_of(not_ticked))
    assert returns_state() == before

    manager.post(start_url(order), {**body, "allow_late": "on"})
    assert Return.objects.filter(order=order, status=R.REQUESTED).count() == 1


def test_a_shipper_may_not_start_a_return() -> None:
    order = delivered_order()

    assert client_for("shipper").get(start_url(order)).status_code == 403


# --- forms ----------------------------------------------------------------------------------


def test_every_form_needs_the_csrf_token() -> None:
    ret = returned()
    order = delivered_order(days_ago=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("manager"))
    before = returns_state()

    assert "csrfmiddlewaretoken" in client.get(url(ret.number)).content.decode()
    assert client.post(url(ret.number, "approve"), {"note": ""}).status_code == 403
    mug = order.lines.get(sku="MUG").pk
    assert client.post(start_url(order), {f"qty_{mug}": "1", f"reason_{mug}": "damaged"}).status_code == 403
    assert returns_state() == before


class _Inputs(HTMLParser):
    """The form controls of a page and the ids its labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.ids: set[str] = set()
        self.described_by: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if attributes.get("aria-describedby"):
            self.described_by.update(str(attributes["aria-describedby"]).split())
        if tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                self.labelled.add(str(attributes["for"]))
        elif tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append({**attributes, "wrapped": "yes" if self._label_depth else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1


def unlabelled(html: str) -> list[str]:
    """Controls no label names (neither a ``<label for>`` nor a wrapping label nor an
    aria-label), and descriptions pointed at that are not on the page."""
    parser = _Inputs()
    parser.feed(html)
    missing = [
        f"unlabelled {control.get('name')}"
        for control in parser.controls
        if control.get("id") not in parser.labelled and not control.get("aria-label") and not control.get("wrapped")
    ]
    return missing + [f"no description {ref}" for ref in sorted(parser.described_by - parser.ids)]


def test_every_input_of_the_returns_pages_has_a_label() -> None:
    requested = returned()
    approved = returned(R.APPROVED)
    received = returned(R.RECEIVED)
    inspected = returned(R.INSPECTED)
    order = delivered_order(days_ago=1)
    manager = client_for("manager")

    for path in (
        QUEUE,
        url(requested.number),
        url(approved.number),
        url(received.number),
        url(inspected.number),
        start_url(order),
    ):
        response = manager.get(path)
        assert response.status_code == 200, path
        assert unlabelled(response.content.decode()) == [], path
    inspect_page = manager.get(url(received.number)).content.decode()
    assert inspect_page.count('name="location"') == 2  # one bin select per line to inspect


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.EXECUTED])
def test_every_input_of_the_order_page_actions_has_a_label_and_its_description(status: str) -> None:
    order = make_order(status)

    html = client_for("manager").get(f"/staff/orders/{order.number}/").content.decode()

    assert "csrfmiddlewaretoken" in html  # the page offers actions
    assert unlabelled(html) == []
