"""Bulk actions on the orders ticked on a queue page: each order on its own, the ones that
could not be processed named with why, and the server refusing roles that may not act."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from dashboard.enums import JobKind, JobState
from dashboard.models import BulkJob
from dashboard.services import bulk
from fulfillment.models import PickList, PickListOrder
from oms.common.actors import Actor
from oms.common.errors import InvalidInput
from orders.enums import OrderStatus as S
from orders.models import Order, OrderEvent
from shipping.enums import LabelStatus
from shipping.models import Label
from tests.browser.test_picking_packing import fits_the_screen, log_in, with_password
from tests.factories import make_order, make_staff
from tests.fulfillment.helpers import paid_order, picker, stock
from tests.shipping.helpers import packed_order
from tests.shipping.test_handover import labelled_order

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def statuses(*orders: Order) -> dict[str, str]:
    return dict(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("number", "status"))


def post_bulk(client: Client, action: str, numbers: list[str], stage: str = "ready_to_pick", **fields: Any) -> Any:
    return client.post(reverse("dashboard:queue-bulk", args=[stage]), {"action": action, "orders": numbers, **fields})


def summary_after(client: Client, response: Any) -> str:
    """The queue page the action led back to, with its result summary."""
    return client.get(response["Location"]).content.decode()


# --- cancel ---------------------------------------------------------------------------------


def test_bulk_cancel_cancels_each_order_and_names_the_one_it_could_not() -> None:
    first, shipped, last = make_order(S.PAID), make_order(S.SHIPPED), make_order(S.UNHANDLED)
    actor = Actor.for_user(make_staff("support"))

    result = bulk.bulk_cancel(
        actor=actor, numbers=[first.number, shipped.number, last.number], reason="Customer asked by phone"
    )

    assert result.done == [first.number, last.number]
    assert [number for number, _reason in result.failed] == [shipped.number]
    assert "shipped" in result.failed[0][1]
    assert statuses(first, shipped, last) == {
        first.number: S.CANCELLED,
        shipped.number: S.SHIPPED,
        last.number: S.CANCELLED,
    }
    assert Order.objects.get(pk=first.pk).cancel_reason == "Customer asked by phone"


def test_bulk_cancel_without_a_reason_cancels_nothing() -> None:
    order = make_order(S.PAID)
    events = OrderEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        bulk.bulk_cancel(actor=Actor.system(), numbers=[order.number], reason="   ")

    assert "Say why" in refused.value.message
    assert statuses(order) == {order.number: S.PAID} and OrderEvent.objects.count() == events


def test_nothing_selected_and_too_much_selected_are_refused_with_codes() -> None:
    with pytest.raises(InvalidInput) as nothing:
        bulk.selected_numbers(["", "  "])
    with pytest.raises(InvalidInput) as too_many:
        bulk.selected_numbers([f"N-{i}" for i in range(bulk.MAX_SELECTED + 1)])

    assert nothing.value.code == "nothing_selected"
    assert too_many.value.code == "too_many_selected" and "at most 500" in too_many.value.message


def test_the_queue_page_shows_the_summary_of_a_bulk_cancel_once() -> None:
    paid, shipped = make_order(S.PAID), make_order(S.SHIPPED)
    client = client_for(make_staff("support"))

    response = post_bulk(
        client, "cancel", [paid.number, shipped.number], reason="Duplicate order", query="sort=-total&evil=1"
    )
    page = summary_after(client, response)

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:queue", args=["ready_to_pick"]) + "?sort=-total"
    assert "Done for 1 order; could not process 1:" in page
    assert f"<strong>{shipped.number}</strong>: " in page and "shipped" in page
    assert "Done for" not in client.get(response["Location"]).content.decode()


def test_a_picker_cannot_bulk_cancel_and_nothing_changes() -> None:
    order = make_order(S.PAID)
    events = OrderEvent.objects.count()

    response = post_bulk(client_for(picker()), "cancel", [order.number], reason="Not wanted")

    assert response.status_code == 403
    assert statuses(order) == {order.number: S.PAID} and OrderEvent.objects.count() == events


def test_a_bulk_action_with_nothing_ticked_says_so() -> None:
    client = client_for(make_staff("support"))

    response = post_bulk(client, "cancel", [], reason="Not wanted")

    assert response.status_code == 302
    assert "Tick at least one order first." in summary_after(client, response)


def test_a_bulk_cancel_without_a_reason_says_so_and_changes_nothing() -> None:
    order = make_order(S.PAID)
    client = client_for(make_staff("support"))

    page = summary_after(client, post_bulk(client, "cancel", [order.number], reason=""))

    assert "Say why the orders are cancelled" in page
    assert statuses(order) == {order.number: S.PAID}


def test_a_bulk_action_needs_the_csrf_token() -> None:
    order = make_order(S.PAID)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("support"))

    response = post_bulk(client, "cancel", [order.number], reason="Not wanted")

    assert response.status_code == 403 and statuses(order) == {order.number: S.PAID}


# --- pick lists -----------------------------------------------------------------------------


def test_bulk_pick_list_makes_one_list_for_the_user_and_names_what_cannot_be_picked() -> None:
    stock("CUP", 10, "C-01", 1)
    ready = [paid_order({"CUP": 1}), paid_order({"CUP": 1})]
    unpaid = make_order(S.UNHANDLED)
    short = make_order(S.PAID, skus=("NONE-LEFT",), stocked=False, allow_backorder=True)
    pam = picker()

    result = bulk.bulk_pick_list(
        actor=Actor.for_user(pam),
        picker=pam,
        numbers=[ready[0].number, unpaid.number, "NO-SUCH", short.number, ready[1].number],
    )

    pick_list = PickList.objects.get()
    assert result.made == [pick_list.number] and pick_list.picker == pam
    assert result.done == [ready[0].number, ready[1].number]
    assert set(PickListOrder.objects.values_list("order__number", flat=True)) == {o.number for o in ready}
    reasons = dict(result.failed)
    assert set(reasons) == {unpaid.number, "NO-SUCH", short.number}
    assert "unhandled" in reasons[unpaid.number]
    assert "stock is short" in reasons[short.number]
    assert reasons["NO-SUCH"] == "There is no order NO-SUCH."


def test_bulk_pick_list_makes_one_list_per_warehouse_and_batch(settings: Any) -> None:
    settings.OMS_PICK_BATCH_SIZE = 2
    stock("NORTH-SKU", 10, "N-01", 1, warehouse="NORTH")
    stock("SOUTH-SKU", 10, "S-01", 1, warehouse="SOUTH")
    north = [paid_order({"NORTH-SKU": 1}) for _ in range(3)]
    south = paid_order({"SOUTH-SKU": 1})
    both = paid_order({"NORTH-SKU": 1, "SOUTH-SKU": 1})
    pam = picker()

    result = bulk.bulk_pick_list(
        actor=Actor.for_user(pam), picker=pam, numbers=[o.number for o in (*north, south, both)]
    )

    lists = {
        pl.number: (pl.warehouse.code, sorted(pl.entries.values_list("order__number", flat=True)))
        for pl in PickList.objects.select_related("warehouse")
    }
    assert sorted(lists.values()) == [
        ("NORTH", sorted(o.number for o in north[:2])),
        ("NORTH", [north[2].number]),
        ("SOUTH", [south.number]),
    ]
    assert sorted(result.made) == sorted(lists)
    assert result.failed == [(both.number, result.failed[0][1])]
    assert "NORTH and SOUTH" in result.failed[0][1]


def test_the_pick_list_button_gives_the_list_to_the_user_and_links_it() -> None:
    stock("CUP", 10, "C-01", 1)
    order = paid_order({"CUP": 1})
    pam = picker()
    client = client_for(pam)

    page = summary_after(client, post_bulk(client, "pick_list", [order.number]))

    pick_list = PickList.objects.get(picker=pam)
    assert "Done for 1 order." in page
    assert reverse("fulfillment:pick-list", args=[pick_list.number]) in page


def test_support_cannot_start_a_pick_list() -> None:
    order = make_order(S.PAID)

    response = post_bulk(client_for(make_staff("support")), "pick_list", [order.number])

    assert response.status_code == 403 and not PickList.objects.exists()


# --- printing -------------------------------------------------------------------------------


def test_printing_labels_downloads_one_pdf_and_names_the_orders_without_labels() -> None:
    labelled = labelled_order()
    not_yet = packed_order()  # its label job has not run yet
    client = client_for(make_staff("shipper"))

    response = post_bulk(client, "print_labels", [labelled.number, not_yet.number], stage="to_ship_today")
    page = client.get(reverse("dashboard:queue", args=["to_ship_today"])).content.decode()

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    assert Label.objects.get(shipment__order=labelled, status=LabelStatus.LIVE).print_count == 1
    assert "Done for 1 order; could not process 1:" in page
    assert f"<strong>{not_yet.number}</strong>: {bulk.NO_LIVE_LABEL}" in page


def test_printing_labels_of_orders_without_any_says_so_without_a_file() -> None:
    unpaid = make_order(S.UNHANDLED)
    client = client_for(make_staff("shipper"))

    response = post_bulk(client, "print_labels", [unpaid.number])

    assert response.status_code == 302
    assert "Done for 0 orders; could not process 1:" in summary_after(client, response)


def test_printing_more_than_fifty_orders_starts_a_background_job() -> None:
    numbers = [f"OMS-{i:06d}" for i in range(1, 52)]
    user = make_staff("shipper")

    response = post_bulk(client_for(user), "print_labels", numbers, format="zpl")

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:job", args=[job.pk])
    assert (job.kind, job.state, job.requested_by, job.total) == (JobKind.PRINT_LABELS, JobState.QUEUED, user, 51)
    assert job.params == {"orders": numbers, "format": "zpl"}


def test_a_role_that_may_not_print_labels_is_refused() -> None:
    labelled = labelled_order()

    response = post_bulk(client_for(make_staff("support")), "print_labels", [labelled.number])

    assert response.status_code == 403
    assert Label.objects.get(shipment__order=labelled).print_count == 0


def test_printing_packing_slips_merges_one_slip_per_order() -> None:
    orders = [make_order(S.PAID), make_order(S.PACKED)]
    client = client_for(make_staff("support"))

    response = post_bulk(client, "packing_slips", [orders[0].number, "NO-SUCH", orders[1].number])
    page = client.get(reverse("dashboard:queue", args=["ready_to_pick"])).content.decode()

    assert response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert orders[0].number in text and orders[1].number in text
    assert "Done for 2 orders; could not process 1:" in page and "<strong>NO-SUCH</strong>" in page


def test_a_selection_over_five_hundred_is_refused_before_anything_starts() -> None:
    client = client_for(make_staff("support"))

    response = post_bulk(client, "packing_slips", [f"OMS-{i:06d}" for i in range(1, 502)])

    assert "do at most 500 at once" in summary_after(client, response)
    assert not BulkJob.objects.exists()


# --- in the browser -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_support_cancels_late_orders_on_a_phone_and_sees_the_one_that_could_not_be(page: Page, live_server) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    overdue, shipped = make_order(S.PAID), make_order(S.SHIPPED)
    Order.objects.filter(pk=overdue.pk).update(ship_by=yesterday)
    Order.objects.filter(pk=shipped.pk).update(promised_delivery=yesterday)
    with_password(make_staff("support", "sue"))
    log_in(page, live_server.url, "sue")

    page.goto(f"{live_server.url}{reverse('dashboard:queue', args=['late'])}")
    assert fits_the_screen(page)
    page.get_by_label("All on this page").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(f"Select {shipped.number}")).to_be_checked()
    page.get_by_label("Reason for cancelling").fill("Customer asked by phone")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel the orders").click()

    summary = page.get_by_role("status").filter(has_text="Done for")
    expect(summary).to_contain_text("Done for 1 order; could not process 1:")
    expect(summary).to_contain_text(shipped.number)
    assert fits_the_screen(page)
    assert statuses(overdue, shipped) == {overdue.number: S.CANCELLED, shipped.number: S.SHIPPED}
