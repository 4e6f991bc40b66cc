"""Returns from the customer's order-status page: the form is offered for a delivered order
within the return window while some unit can still go back; a request through it opens a
return as the customer's act; bad input, a missing CSRF token, a bad link or an order that
allows no return writes nothing; the page says where each return stands in plain words, and
an approved return's label downloads through the link of its own order only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications import customer_returns, formatting
from notifications.customer_forms import NOTHING_CHOSEN
from notifications.customer_return_status import return_refusal
from notifications.status_links import status_link_token
from oms.common.actors import ActorKind
from orders import services
from orders.enums import OrderStatus
from orders.models import Order
from returns.enums import ReturnLabelStatus, ReturnStatus
from returns.models import Return, ReturnLabel
from returns.services import return_approve, return_cancel, return_inspect, return_window_closes
from returns.services.labels import return_label_issue
from tests.factories import SYSTEM
from tests.notifications.return_helpers import approved, received, refunded, rejected, requested
from tests.notifications.test_customer_actions import status_path, token_of
from tests.notifications.test_status_page import altered, assert_private, html, private_order
from tests.returns.helpers import delivered_order, returns_state
from tests.returns.test_labels import delivered_by_fleet, payload

pytestmark = pytest.mark.django_db

S = OrderStatus


def return_path(order: Order, token: str | None = None) -> str:
    return reverse("order-status-return", kwargs={"token": token or token_of(order)})


def label_path(order: Order, rma: str, token: str | None = None) -> str:
    return reverse("order-status-return-label", kwargs={"token": token or token_of(order), "rma": rma})


def line_pk(order: Order, sku: str) -> int:
    return int(order.lines.get(sku=sku).pk)


def form_data(order: Order, comment: str = "", **asked: tuple[int, str]) -> dict[str, Any]:
    """The form as the customer sends it: ``MUG=(1, "damaged")``; every other line left at 0."""
    data: dict[str, Any] = {"comment": comment}
    for line in order.lines.all():
        quantity, reason = asked.get(line.sku, (0, ""))
        data[f"quantity_{line.pk}"] = str(quantity)
        data[f"reason_{line.pk}"] = reason
    return data


def ask(order: Order, client: Client | None = None, /, comment: str = "", **asked: tuple[int, str]) -> Any:
    return (client or Client()).post(return_path(order), form_data(order, comment, **asked))


def page(order: Order) -> str:
    return html(Client().get(status_path(order)))


def returns_section(order: Order) -> str:
    text = page(order)
    start = text.index('id="returns-heading"')
    return text[start : text.index("</section>", start)]


# --- asking for a return --------------------------------------------------------------------


def test_a_customer_asks_for_a_return_on_the_page_and_is_told_its_rma_number() -> None:
    # Given an order of two mugs and a T-shirt delivered two days ago, in a browser
    order = delivered_order()
    client = Client()

    # When the customer sends one mug back as damaged and the T-shirt as too small
    response = ask(order, client, comment="The handle came off", MUG=(1, "damaged"), TEE=(1, "too_small"))

    # Then they are back on the page, which names the RMA number and what happens next
    assert response.status_code == 303 and response["Location"] == status_path(order)
    assert_private(response)
    ret = Return.objects.get(order=order)
    text = html(client.get(response["Location"]))
    assert f"Your return {ret.number} is requested" in text and "Please send nothing before." in text
    assert f"Return {ret.number}" in text and "We are checking your request" in text
    # And the return is the customer's, with the units and reasons chosen
    assert (ret.status, ret.requested_by_kind, ret.comment) == (
        ReturnStatus.REQUESTED,
        ActorKind.CUSTOMER,
        "The handle came off",
    )
    lines = ret.lines.order_by("order_line__sku").values_list("order_line__sku", "quantity", "reason")
    assert list(lines) == [("MUG", 1, "damaged"), ("TEE", 1, "too_small")]


def test_the_form_offers_each_item_up_to_what_can_still_be_returned_with_the_reasons() -> None:
    order = delivered_order()
    requested(order, ("MUG", 1, "damaged"))

    response = Client().get(return_path(order))

    text = html(response)
    form = response.context["form"]
    assert [choice for choice, _ in form.fields[f"quantity_{line_pk(order, 'MUG')}"].choices] == [0, 1]
    assert [choice for choice, _ in form.fields[f"quantity_{line_pk(order, 'TEE')}"].choices] == [0, 1]
    assert "Up to 1: the rest is on a return." in text
    assert "Arrived damaged" in text and "Too small" in text and "Another reason" in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert f"until {formatting.day(return_window_closes(order))}" in text
    assert_private(response)


def test_a_line_wholly_on_a_return_is_named_and_offers_nothing() -> None:
    order = delivered_order()
    requested(order, ("TEE", 1, "too_small"))

    response = Client().get(return_path(order))

    assert f"quantity_{line_pk(order, 'TEE')}" not in response.context["form"].fields
    assert "Already on a return:" in html(response)


def test_choosing_no_quantity_at_all_is_an_error_sentence_and_writes_nothing() -> None:
    order = delivered_order()
    before = returns_state()

    response = ask(order, None, MUG=(0, "damaged"))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [NOTHING_CHOSEN]
    assert NOTHING_CHOSEN in response.content.decode()
    assert returns_state() == before
    assert_private(response)


@pytest.mark.parametrize(
    ("asked", "comment", "field", "error"),
    [
        ({"MUG": (3, "damaged")}, "", "quantity_MUG", "Choose between 0 and 2 units."),
        ({"MUG": (1, "")}, "", "reason_MUG", "Choose why it goes back."),
        ({"MUG": (1, "bored")}, "", "reason_MUG", "Choose one of the reasons listed."),
        # The returns service asks for the comment; its answer lands on the comment field.
        ({"MUG": (1, "other")}, "  ", "comment", "Tell us the reason in the comment."),
    ],
)
def test_bad_input_is_named_on_its_field_with_400_and_writes_nothing(
    asked: dict[str, tuple[int, str]], comment: str, field: str, error: str
) -> None:
    order = delivered_order()
    before = returns_state()

    response = ask(order, None, comment, **asked)

    assert response.status_code == 400
    name = field.replace("MUG", str(line_pk(order, "MUG")))
    assert response.context["form"].errors[name] == [error]
    assert error in response.content.decode()
    assert returns_state() == before


def test_another_reason_with_a_comment_is_taken() -> None:
    order = delivered_order()

    response = ask(order, None, "Wrong colour on the photo", MUG=(2, "other"))

    assert response.status_code == 303
    assert Return.objects.get(order=order).lines.get().reason == "other"


# --- when the form is offered ---------------------------------------------------------------


def test_a_delivered_order_within_the_window_offers_the_return_and_says_until_when() -> None:
    order = delivered_order(days_ago=2)

    section = returns_section(order)

    assert f'href="{return_path(order)}"' in section and "Return items" in section
    assert f"You can ask to send items back until {formatting.day(return_window_closes(order))}." in section


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_after_the_window_the_page_offers_no_return_and_says_when_it_closed() -> None:
    order = delivered_order(days_ago=15)

    section = returns_section(order)

    assert "/return/" not in section and "Return items" not in section
    assert f"Items could be sent back until {formatting.day(return_window_closes(order))}." in section


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_on_the_last_day_of_the_window_the_return_is_still_offered() -> None:
    order = delivered_order(days_ago=14)

    assert f'href="{return_path(order)}"' in returns_section(order)


@pytest.mark.parametrize("status", [S.PAID, S.SHIPPED, S.CANCELLED])
def test_an_order_not_delivered_offers_no_return(status: str) -> None:
    order = private_order(status)

    text = page(order)

    assert "/return/" not in text and "Returns" not in text


def test_once_every_unit_is_on_a_return_the_return_is_no_longer_offered() -> None:
    order = delivered_order()
    requested(order, ("MUG", 2, "damaged"), ("TEE", 1, "too_small"))

    section = returns_section(order)

    assert "/return/" not in section and "Return items" not in section


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
@pytest.mark.parametrize(
    ("case", "sentence"),
    [
        ("paid", "has not been delivered yet: you can ask to send items back once it arrives."),
        ("window closed", "the 14-day return window has closed."),
        ("all on a return", "is already on a return: there is nothing left to send back."),
        ("cancelled", "was cancelled: there is nothing to send back."),
    ],
)
def test_an_order_that_allows_no_return_is_refused_with_a_sentence_and_nothing_is_written(
    case: str, sentence: str
) -> None:
    if case == "paid":
        order = private_order(S.PAID)
    elif case == "cancelled":
        order = private_order(S.CANCELLED)
    elif case == "window closed":
        order = delivered_order(days_ago=15)
    else:
        order = delivered_order()
        requested(order, ("MUG", 2, "damaged"), ("TEE", 1, "too_small"))
    before = returns_state()

    shown = Client().get(return_path(order))
    posted = Client().post(return_path(order), {"comment": ""})

    for response in (shown, posted):
        assert response.status_code == 409
        assert sentence in response.content.decode() and order.number in response.content.decode()
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert_private(response)
    assert returns_state() == before


def test_a_return_refused_between_showing_and_sending_the_form_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the form was shown while the order could be returned, and the order is not
    # delivered when it is sent (here: it never was), the service refuses under the lock
    order = private_order(S.PAID)
    calls: list[str] = []

    def allowed_when_shown(order: Order) -> str | None:
        calls.append(order.number)
        return None if len(calls) == 1 else return_refusal(order)

    monkeypatch.setattr(customer_returns, "return_refusal", allowed_when_shown)
    before = returns_state()
    data = {f"quantity_{line.pk}": "1" for line in order.lines.all()}
    data.update({f"reason_{line.pk}": "damaged" for line in order.lines.all()})

    response = Client().post(return_path(order), data)

    assert response.status_code == 409
    assert "has not been delivered yet" in response.content.decode()
    assert returns_state() == before


# --- CSRF and bad links ---------------------------------------------------------------------


def test_the_return_form_refuses_a_post_without_the_csrf_token() -> None:
    order = delivered_order()
    before = returns_state()

    response = ask(order, Client(enforce_csrf_checks=True), MUG=(1, "damaged"))

    assert response.status_code == 403
    assert returns_state() == before


def test_the_forms_csrf_token_lets_the_return_through() -> None:
    order = delivered_order()
    client = Client(enforce_csrf_checks=True)
    client.get(return_path(order))

    response = client.post(
        return_path(order),
        {**form_data(order, MUG=(1, "damaged")), "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 303
    assert Return.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("how", ["altered", "revoked"])
def test_a_bad_link_cannot_ask_for_a_return_or_get_a_label_and_gets_the_pages_404(how: str) -> None:
    order = delivered_order()
    ret = approved(order, ("MUG", 1, "damaged"))
    token = status_link_token(order)
    if how == "altered":
        token = altered(token)
    else:
        order = services.order_revoke_status_links(actor=SYSTEM, number=order.number)
    before = returns_state()
    not_found = Client().get(f"/track/{token}/")

    answers = [
        Client().get(return_path(order, token)),
        Client().post(return_path(order, token), form_data(order, MUG=(1, "damaged"))),
        Client().get(label_path(order, ret.number, token)),
    ]

    assert not_found.status_code == 404
    for answer in answers:
        assert answer.status_code == 404
        assert answer.content == not_found.content
        assert_private(answer)
    assert returns_state() == before


# --- the label ------------------------------------------------------------------------------


def test_an_approved_returns_label_is_made_then_downloads_through_the_link() -> None:
    # Given an order the own fleet delivered, whose carrier makes return labels
    order = delivered_by_fleet()
    client = Client()
    ask(order, client, MUG=(1, "damaged"))
    ret = Return.objects.get(order=order)

    # When staff approve it, the label is asked for: the page says it is being made
    return_approve(actor=SYSTEM, number=ret.number)
    waiting = returns_section(order)
    not_yet = client.get(label_path(order, ret.number))

    assert "Send the parcel back" in waiting and "Your label is being made." in waiting
    assert "Download your return label" not in waiting
    assert not_yet.status_code == 404 and b"No return label to print" in not_yet.content
    assert_private(not_yet)

    # And once the worker made it, the page links it and it downloads as a PDF
    return_label_issue(payload(ret), 1)
    ready = returns_section(order)
    response = client.get(label_path(order, ret.number))

    assert f'href="{label_path(order, ret.number)}"' in ready and "Download your return label (PDF)" in ready
    assert "Your label is being made." not in ready
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{ret.number}-label.pdf"'
    pdf = ReturnLabel.objects.get(ret=ret).pdf
    assert pdf is not None and response.content == bytes(pdf)
    assert response.content.startswith(b"%PDF")
    assert_private(response)


def test_another_orders_rma_gets_the_same_404_page_as_a_bad_link() -> None:
    # Given an order of the customer's, and another order whose return has a label ready
    other = delivered_by_fleet()
    theirs = approved(other, ("MUG", 1, "damaged"))
    return_label_issue(payload(theirs), 1)
    mine = delivered_order()
    not_found = Client().get(f"/track/{altered(status_link_token(mine))}/")

    # When the customer's link asks for the other order's label, or an RMA that does not exist
    answers = [Client().get(label_path(mine, theirs.number)), Client().get(label_path(mine, "RMA-999999"))]

    # Then both get the page every bad link gets, while the label's own link serves it
    for answer in answers:
        assert answer.status_code == 404
        assert answer.content == not_found.content
        assert_private(answer)
    assert Client().get(label_path(other, theirs.number)).status_code == 200


def test_an_approved_return_without_a_label_says_where_to_send_the_parcel() -> None:
    # Given a fleet order whose carrier takes no return labels, and one whose label failed
    no_label = approved(delivered_by_fleet(return_labels=False), ("MUG", 1, "damaged"))
    failed = approved(delivered_by_fleet(), ("TEE", 1, "too_small"))
    ReturnLabel.objects.filter(ret=failed).update(status=ReturnLabelStatus.FAILED)

    for ret in (no_label, failed):
        section = returns_section(ret.order)

        # Then neither mentions a label, and both say where to send the parcel
        assert "Send the parcel back" in section
        assert "label" not in section.lower().replace("aria-labelledby", "")
        assert f"write the return number {ret.number} on the parcel" in section
        assert "Demo Shop<br>Magazynowa 3<br>05-800 Pruszków<br>Poland" in section


# --- where each return stands ---------------------------------------------------------------


def _inspected(order: Order) -> Return:
    ret = received(order, ("MUG", 2, "damaged"))
    return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome="scrap", quantity=2, note="Cracked")
    return Return.objects.get(pk=ret.pk)


def _cancelled(order: Order) -> Return:
    ret = approved(order, ("MUG", 2, "damaged"))
    return return_cancel(actor=SYSTEM, number=ret.number, reason="The customer keeps them")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda order: requested(order, ("MUG", 2, "damaged")), "We are checking your request"),
        (lambda order: approved(order, ("MUG", 2, "damaged")), "Send the parcel back"),
        (lambda order: received(order, ("MUG", 2, "damaged")), "Your parcel arrived; we are checking the items"),
        (_inspected, "Checked; your refund is on its way"),
        (lambda order: refunded(order, ("MUG", 2, "damaged")), "Refunded €40.00"),
        (lambda order: rejected("The mugs were used", order), "Not accepted: The mugs were used"),
        (_cancelled, "Cancelled"),
    ],
)
def test_the_page_says_where_each_return_stands_in_plain_words(make: Any, words: str) -> None:
    order = delivered_order()
    ret = make(order)

    section = returns_section(order)

    assert f"Return {ret.number}" in section
    assert f"<strong>{words}</strong>" in section
    mug = order.lines.get(sku="MUG")
    assert f'<td>{mug.name}</td><td>Arrived damaged</td><td class="num">2</td>' in section


def test_a_received_return_shows_the_units_that_arrived() -> None:
    order = delivered_order()
    ret = received(order, ("MUG", 2, "damaged"), ("TEE", 1, "too_small"), counts={"MUG": 1, "TEE": 1})

    section = returns_section(order)

    assert f"Return {ret.number}" in section and ">Arrived<" in section
    rows = section[section.index("<tbody>") : section.index("</tbody>")]
    assert rows.count("<tr>") == 2
    assert 'Arrived damaged</td><td class="num">2</td><td class="num">1</td>' in rows
    assert 'Too small</td><td class="num">1</td><td class="num">1</td>' in rows


def test_a_refunded_return_shows_the_refund_and_the_orders_refunded_total() -> None:
    order = delivered_order()
    refunded(order, ("MUG", 2, "damaged"))

    text = page(order)

    assert "<strong>Refunded €40.00</strong>" in text
    assert 'Refunded</th><td class="num">€40.00</td>' in text


def test_a_requested_return_shows_no_address_yet() -> None:
    order = delivered_order()
    requested(order, ("MUG", 1, "damaged"))

    section = returns_section(order)

    assert "Send it to" not in section and "write the return number" not in section


# --- cost -----------------------------------------------------------------------------------


def queries(order: Order) -> int:
    client = Client()
    path = status_path(order)
    with CaptureQueriesContext(connection) as ctx:
        html(client.get(path))
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_queries_however_many_returns_and_lines() -> None:
    # Given a delivered order with one return of one line, and one with three returns of
    # several lines, one of them refunded
    one = delivered_order()
    requested(one, ("MUG", 1, "damaged"))
    three = delivered_order({"MUG": 3, "TEE": 2})
    requested(three, ("MUG", 1, "damaged"), ("TEE", 1, "too_small"))
    requested(three, ("MUG", 1, "too_large"))
    refunded(three, ("TEE", 1, "changed_mind"))

    # Then both cost the link's order with its joins, its lines, the returns (with refund
    # and label), their lines, what can still be returned (two), and the rating
    assert queries(one) == queries(three) == 7
