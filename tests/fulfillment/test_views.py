"""The picker and packer screens through the Django test client: who may open them, every
form's success and refusal (a refusal changes nothing but the accuracy ledger), and queries
that do not grow with the list on screen."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from fulfillment.enums import AccuracyKind, EntryState, PackageStatus, PickListStatus, TaskStatus
from fulfillment.models import AccuracyEvent, Package, PackageItem, PackingSession, PackingStation, PickList
from fulfillment.selectors import pick_list_tasks
from fulfillment.services import packing, picking
from inventory.models import CycleCount, StockLevel, StockMovement, Warehouse
from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order
from tests.factories import make_staff
from tests.fulfillment.helpers import box, manager, packer, paid_order, picker, stock

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, address: str, data: dict[str, Any] | None = None) -> Any:
    """Posts a form and follows the redirect, as the browser does (the next page shows the
    messages, so they do not pile up for the next request)."""
    return client.post(address, data or {}, follow=True)


def went_to(response: Any) -> str:
    """Where the form sent the browser."""
    return response.redirect_chain[0][0]


def said(response: Any) -> list[tuple[str, str]]:
    """The messages the page after the form showed: (level, text)."""
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def stock_snapshot() -> list[tuple[int, int, int]]:
    return list(StockLevel.objects.order_by("id").values_list("id", "on_hand", "allocated"))


@pytest.fixture
def shelves() -> None:
    stock("TEE", 10, "A-01", 10, name="T-shirt", weight_grams=200, barcode="111")
    stock("MUG", 10, "B-01", 20, name="Mug", weight_grams=300)


def make_list(user: Any, *orders: Order, start: bool = True) -> PickList:
    actor = Actor.for_user(user)
    pick_list = picking.pick_list_create(actor=actor, picker=user, order_numbers=[o.number for o in orders])
    if start:
        picking.pick_list_start(actor=actor, number=pick_list.number)
    pick_list.refresh_from_db()
    return pick_list


def picked(order: Order) -> PickList:
    pam = picker()
    pick_list = make_list(pam, order)
    for task in pick_list_tasks(pick_list):
        picking.pick_scan(
            actor=Actor.for_user(pam), number=pick_list.number, code=task.product.sku, quantity=task.quantity
        )
    return pick_list


def opened(order: Order, user: Any) -> None:
    packing.packing_open(actor=Actor.for_user(user), code=order.number)


# --- who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize("address", ["/staff/picking/", "/staff/picking/PL-000001/", "/staff/packing/"])
def test_anonymous_visitors_are_sent_to_the_log_in(address: str) -> None:
    response = Client().get(address)

    assert response.status_code == 302
    assert response["Location"] == f"/staff/login/?next={address}"


def test_a_packer_cannot_open_the_picking_pages(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pick_list = make_list(picker(), order, start=False)
    client = client_for(packer())

    pages = [client.get("/staff/picking/"), client.get(f"/staff/picking/{pick_list.number}/")]
    posts = [
        post(client, "/staff/picking/take/", {"max_orders": 1}),
        post(client, f"/staff/picking/{pick_list.number}/start/"),
        client.get(f"/staff/picking/{pick_list.number}/pdf/"),
    ]

    assert [r.status_code for r in pages + posts] == [403] * 5
    assert PickList.objects.count() == 1
    assert PickList.objects.get().status == PickListStatus.ASSIGNED


def test_a_picker_cannot_open_the_packing_pages(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    client = client_for(picker())

    responses = [
        client.get("/staff/packing/"),
        post(client, "/staff/packing/open/", {"code": order.number}),
        client.get(f"/staff/packing/{order.number}/slip/"),
    ]

    assert [r.status_code for r in responses] == [403] * 3
    assert not PackingSession.objects.exists()


def test_a_picker_cannot_see_another_pickers_list_but_a_manager_can(shelves: None) -> None:
    pick_list = make_list(picker(), paid_order({"TEE": 1}), start=False)

    assert client_for(picker()).get(f"/staff/picking/{pick_list.number}/").status_code == 403
    assert client_for(manager()).get(f"/staff/picking/{pick_list.number}/").status_code == 200


def test_only_managers_may_make_a_list_for_someone_else(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pia = picker("pia")

    response = post(client_for(picker()), "/staff/picking/make/", {"orders": order.number, "picker": pia.pk})

    assert response.status_code == 403
    assert not PickList.objects.exists()


def test_the_navigation_links_to_the_screens_the_role_may_use() -> None:
    picker_home = client_for(picker()).get("/staff/").content.decode()
    packer_home = client_for(packer()).get("/staff/").content.decode()

    assert 'href="/staff/picking/"' in picker_home and 'href="/staff/packing/"' not in picker_home
    assert 'href="/staff/packing/"' in packer_home and 'href="/staff/picking/"' not in packer_home


def test_an_unknown_pick_list_is_not_found() -> None:
    assert client_for(picker()).get("/staff/picking/PL-999999/").status_code == 404


# --- picking --------------------------------------------------------------------------------


def test_the_picking_page_shows_my_lists_picking_first_and_the_queue(shelves: None) -> None:
    pia = picker("pia")
    assigned = make_list(pia, paid_order({"TEE": 1}), start=False)
    started = make_list(pia, paid_order({"MUG": 1}))
    paid_order({"TEE": 1})

    page = client_for(pia).get("/staff/picking/").content.decode()

    assert page.index(started.number) < page.index(assigned.number)
    assert "Ready to pick: <strong>1</strong> order." in page
    assert "Take next batch" in page
    assert "Make a pick list" not in page  # the manager's form


def test_taking_the_next_batch_makes_a_list_for_me_and_opens_it(shelves: None, settings: Any) -> None:
    settings.OMS_PICK_BATCH_SIZE = 5
    orders = [paid_order({"TEE": 1}) for _ in range(3)]
    pia = picker("pia")

    response = post(client_for(pia), "/staff/picking/take/", {"max_orders": 2})

    pick_list = PickList.objects.get()
    assert went_to(response) == f"/staff/picking/{pick_list.number}/"
    assert pick_list.picker == pia
    assert [e.order for e in pick_list.entries.all()] == orders[:2]
    assert said(response) == [("success", f"Pick list {pick_list.number} with 2 order(s) is yours: start picking.")]


def test_taking_a_batch_takes_three_orders_unless_told_otherwise(shelves: None, settings: Any) -> None:
    settings.OMS_PICK_BATCH_SIZE = 10
    for _ in range(4):
        paid_order({"TEE": 1})

    page = client_for(picker()).get("/staff/picking/").content.decode()
    post(client_for(picker()), "/staff/picking/take/", {})

    assert '<option value="3" selected>3</option>' in page and '<option value="10">10</option>' in page
    assert PickList.objects.get().entries.count() == 3


def test_taking_a_batch_with_an_empty_queue_says_so_and_makes_nothing() -> None:
    response = post(client_for(picker()), "/staff/picking/take/", {"max_orders": 1})

    assert went_to(response) == "/staff/picking/"
    assert said(response) == [("error", "No order is ready to pick.")]
    assert not PickList.objects.exists()


def test_a_batch_size_beyond_the_limit_is_refused(shelves: None, settings: Any) -> None:
    settings.OMS_PICK_BATCH_SIZE = 3
    paid_order({"TEE": 1})

    response = post(client_for(picker()), "/staff/picking/take/", {"max_orders": 4})

    assert said(response) == [("error", "Choose how many orders to take from the list.")]
    assert not PickList.objects.exists()


def test_a_manager_makes_a_list_of_typed_orders_for_a_picker(shelves: None) -> None:
    one, two = paid_order({"TEE": 1}), paid_order({"MUG": 1})
    pia = picker("pia")
    client = client_for(manager())
    page = client.get("/staff/picking/").content.decode()

    response = post(client, "/staff/picking/make/", {"orders": f"{one.number}, {two.number}\n", "picker": pia.pk})

    pick_list = PickList.objects.get()
    assert "Make a pick list" in page and f'<option value="{pia.pk}">pia</option>' in page
    assert pick_list.picker == pia
    assert [e.order for e in pick_list.entries.all()] == [one, two]
    assert said(response) == [("success", f"Pick list {pick_list.number} with 2 order(s) is assigned to pia.")]


def test_a_managers_list_with_an_order_not_ready_is_refused_whole(shelves: None) -> None:
    ready = paid_order({"TEE": 1})
    unpaid = paid_order({"TEE": 1}, status=OrderStatus.UNHANDLED)
    pia = picker("pia")

    response = post(
        client_for(manager()), "/staff/picking/make/", {"orders": f"{ready.number} {unpaid.number}", "picker": pia.pk}
    )

    [(level, text)] = said(response)
    assert level == "error" and f"{unpaid.number} is unhandled, not paid" in text
    assert not PickList.objects.exists()


def test_a_list_cannot_be_made_for_a_user_who_cannot_pick(shelves: None) -> None:
    order = paid_order({"TEE": 1})

    response = post(client_for(manager()), "/staff/picking/make/", {"orders": order.number, "picker": packer().pk})

    assert said(response) == [("error", "Choose the picker from the list; that user cannot pick.")]
    assert not PickList.objects.exists()


def test_an_assigned_list_offers_to_start_and_starting_moves_its_orders_to_picking(shelves: None) -> None:
    order = paid_order({"TEE": 2})
    pia = picker("pia")
    pick_list = make_list(pia, order, start=False)
    client = client_for(pia)

    page = client.get(f"/staff/picking/{pick_list.number}/").content.decode()
    response = post(client, f"/staff/picking/{pick_list.number}/start/")

    assert "Start picking" in page and 'name="code"' not in page
    assert said(response) == [("success", f"Picking {pick_list.number}: go to the first bin.")]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING
    page = client.get(f"/staff/picking/{pick_list.number}/").content.decode()
    assert 'Go to bin <strong class="task-bin">A-01</strong>' in page
    assert "Pick <strong>2 x TEE</strong> — T-shirt" in page
    assert f"into tote <strong>{pick_list.number}-1</strong> (order {order.number})" in page
    assert "0 of 2 units picked" in page
    assert f'href="/staff/picking/{pick_list.number}/pdf/"' in page


def test_a_manager_sees_the_other_pickers_open_lists(shelves: None) -> None:
    pick_list = make_list(picker("pia"), paid_order({"TEE": 1}), start=False)

    page = client_for(manager()).get("/staff/picking/").content.decode()

    assert "<h2>Other pickers' lists</h2>" in page
    assert f'href="/staff/picking/{pick_list.number}/"' in page and "<td>pia</td>" in page


def test_starting_someone_elses_list_is_refused_and_changes_nothing(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pick_list = make_list(picker("pia"), order, start=False)

    refused = post(client_for(picker("ole")), f"/staff/picking/{pick_list.number}/start/")

    [(level, text)] = said(refused)
    assert level == "error" and "only they or a manager can work on it" in text
    assert PickList.objects.get().status == PickListStatus.ASSIGNED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_scan_of_the_right_item_takes_the_units_from_the_bin(shelves: None) -> None:
    order = paid_order({"TEE": 2})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    task = pick_list_tasks(pick_list)[0]

    response = post(
        client_for(pia), f"/staff/picking/{pick_list.number}/scan/", {"code": "111", "quantity": "", "task": task.pk}
    )

    assert went_to(response) == f"/staff/picking/{pick_list.number}/"
    assert said(response) == [("success", f"1 x TEE into tote {pick_list.number}-1. 1 more here.")]
    assert list(StockMovement.objects.filter(kind="pick").values_list("on_hand_delta", "order_number")) == [
        (-1, order.number)
    ]


def test_the_last_scan_completes_the_list_and_the_page_sends_the_totes_to_packing(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    client = client_for(pia)

    response = post(client, f"/staff/picking/{pick_list.number}/scan/", {"code": "TEE"})

    assert PickList.objects.get().status == PickListStatus.COMPLETED
    page = response.content.decode()
    assert f"Pick list {pick_list.number} is complete: take the totes to packing." in page
    assert "Pick list complete: take the totes to packing" in page
    assert 'name="code"' not in page


def test_a_wrong_scan_is_shown_in_red_and_only_the_accuracy_ledger_changes(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    before = stock_snapshot()

    response = post(client_for(pia), f"/staff/picking/{pick_list.number}/scan/", {"code": "MUG"})

    page = response.content.decode()
    assert '<p class="flash flash-error" role="alert">Wrong item: MUG is MUG (Mug). Bin A-01 should give TEE' in page
    assert stock_snapshot() == before
    assert not StockMovement.objects.filter(kind="pick").exists()
    event = AccuracyEvent.objects.get()
    assert (event.kind, event.sku, event.location, event.actual, event.user) == (
        AccuracyKind.WRONG_SCAN,
        "TEE",
        "A-01",
        "MUG",
        pia,
    )


def test_an_empty_scan_or_a_bad_count_is_refused_and_changes_nothing(shelves: None) -> None:
    order = paid_order({"TEE": 2})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    client = client_for(pia)
    before = stock_snapshot()

    empty = post(client, f"/staff/picking/{pick_list.number}/scan/", {"code": "  "})
    zero = post(client, f"/staff/picking/{pick_list.number}/scan/", {"code": "TEE", "quantity": "0"})
    too_many = post(client, f"/staff/picking/{pick_list.number}/scan/", {"code": "TEE", "quantity": "3"})

    assert said(empty) == [("error", "Scan the item's barcode or type its SKU.")]
    assert said(zero) == [("error", "Confirm at least one unit, or leave the number empty for one.")]
    assert said(too_many) == [("error", "2 unit(s) of TEE are left to pick here; confirm 1 to 2.")]
    assert stock_snapshot() == before
    assert not AccuracyEvent.objects.exists()


def test_a_scan_for_a_task_already_done_is_refused(shelves: None) -> None:
    order = paid_order({"TEE": 1, "MUG": 1})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    first = pick_list_tasks(pick_list)[0]
    client = client_for(pia)
    post(client, f"/staff/picking/{pick_list.number}/scan/", {"code": "TEE", "task": first.pk})

    response = post(client, f"/staff/picking/{pick_list.number}/scan/", {"code": "TEE", "task": first.pk})

    assert said(response) == [("error", f"Task {first.pk} of pick list {pick_list.number} is already done.")]
    assert StockMovement.objects.filter(kind="pick").count() == 1


def test_a_short_pick_is_recorded_with_a_count_and_its_message_shown(shelves: None) -> None:
    order = paid_order({"TEE": 2})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    task = pick_list_tasks(pick_list)[0]

    response = post(client_for(pia), f"/staff/picking/{pick_list.number}/short/", {"task": task.pk, "found": "0"})

    count = CycleCount.objects.get()
    [(level, text)] = said(response)
    assert level == "warning"
    assert text.startswith(f"Short pick recorded; bin A-01 will be counted ({count.reference}).")
    assert f"order {order.number} goes back to the queue" in text
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert AccuracyEvent.objects.get().kind == AccuracyKind.SHORT_PICK


def test_a_short_pick_that_finds_everything_is_refused_and_changes_nothing(shelves: None) -> None:
    order = paid_order({"TEE": 2})
    pia = picker("pia")
    pick_list = make_list(pia, order)
    task = pick_list_tasks(pick_list)[0]
    client = client_for(pia)
    before = stock_snapshot()

    all_there = post(client, f"/staff/picking/{pick_list.number}/short/", {"task": task.pk, "found": "2"})
    blank = post(client, f"/staff/picking/{pick_list.number}/short/", {"task": task.pk, "found": ""})

    [(level, text)] = said(all_there)
    assert level == "error" and "report how many you found (0 to 1)" in text
    assert said(blank) == [("error", "Type how many units you found in the bin (0 if it is empty).")]
    assert stock_snapshot() == before
    assert pick_list.tasks.get().status == TaskStatus.OPEN
    assert not CycleCount.objects.exists() and not AccuracyEvent.objects.exists()


def test_the_picker_cancels_their_list_with_a_reason(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pia = picker("pia")
    pick_list = make_list(pia, order)

    response = post(client_for(pia), f"/staff/picking/{pick_list.number}/cancel/", {"reason": "Trolley broke"})

    assert went_to(response) == "/staff/picking/"
    assert said(response) == [
        ("success", f"Pick list {pick_list.number} is cancelled; its orders are back in the queue.")
    ]
    pick_list.refresh_from_db()
    assert (pick_list.status, pick_list.cancel_reason) == (PickListStatus.CANCELLED, "Trolley broke")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_cancelling_without_a_reason_or_someone_elses_list_is_refused(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pick_list = make_list(picker("pia"), order)

    blank = post(client_for(pick_list.picker), f"/staff/picking/{pick_list.number}/cancel/", {"reason": " "})
    other = post(client_for(picker()), f"/staff/picking/{pick_list.number}/cancel/", {"reason": "Mine now"})

    assert said(blank) == [("error", "Say why the pick list is cancelled.")]
    assert said(other)[0][0] == "error"
    assert PickList.objects.get().status == PickListStatus.PICKING
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING
    assert pick_list.entries.get().state == EntryState.PICKING


def test_the_pick_list_pdf_opens_inline_under_its_number(shelves: None) -> None:
    pia = picker("pia")
    pick_list = make_list(pia, paid_order({"TEE": 1}))

    response = client_for(pia).get(f"/staff/picking/{pick_list.number}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{pick_list.number}.pdf"'
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert pick_list.number in text and "A-01" in text


def test_the_picking_page_queries_do_not_grow_with_the_list(shelves: None, settings: Any) -> None:
    settings.OMS_PICK_BATCH_SIZE = 10
    stock("CAP", 10, "C-01", 30, name="Cap")
    pia = picker("pia")
    small = make_list(pia, paid_order({"TEE": 1}))
    large = make_list(pia, *[paid_order({"TEE": 1, "MUG": 1, "CAP": 1}) for _ in range(3)])
    client = client_for(pia)
    client.get(f"/staff/picking/{small.number}/")  # the session and permissions are loaded

    with CaptureQueriesContext(connection) as few:
        client.get(f"/staff/picking/{small.number}/")
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/staff/picking/{large.number}/").status_code == 200
    with CaptureQueriesContext(connection) as home:
        client.get("/staff/picking/")

    assert len(many) == len(few) <= 7  # session, user, two for permissions, list, orders, path
    assert len(home) <= 6


# --- packing --------------------------------------------------------------------------------


@pytest.fixture
def boxes() -> None:
    box("BOX-S", tare=150)
    box("BOX-M", tare=300)


def test_scanning_a_tote_opens_its_order_for_packing(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    pick_list = picked(order)
    pat = packer("pat")

    response = post(client_for(pat), "/staff/packing/open/", {"code": f"{pick_list.number}-1"})

    assert went_to(response) == f"/staff/packing/{order.number}/"
    session = PackingSession.objects.get()
    assert (session.order, session.packer, session.station) == (order, pat, None)


def test_scanning_something_that_waits_for_no_packing_is_refused(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    client = client_for(packer())

    unknown = post(client, "/staff/packing/open/", {"code": "TOTE-404"})
    unpicked = post(client, "/staff/packing/open/", {"code": order.number})
    blank = post(client, "/staff/packing/open/", {"code": ""})

    assert said(unknown)[0] == (
        "error",
        "No order or tote TOTE-404 is waiting to be packed. Scan the order number or the tote label.",
    )
    assert said(unpicked)[0][0] == "error" and "only picked orders" in said(unpicked)[0][1]
    assert said(blank) == [("error", "Scan the order number or the tote label.")]
    assert all(went_to(r) == "/staff/packing/" for r in (unknown, unpicked, blank))
    assert not PackingSession.objects.exists()


def test_the_chosen_station_is_remembered_for_the_packing(shelves: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    station = PackingStation.objects.create(code="PS-1", name="Table 1", warehouse=Warehouse.objects.get())
    client = client_for(packer())

    chosen = post(client, "/staff/packing/station/", {"station": station.pk})
    page = client.get("/staff/packing/").content.decode()
    post(client, "/staff/packing/open/", {"code": order.number})

    assert said(chosen) == [("success", "You pack at station PS-1.")]
    assert f'<option value="{station.pk}" selected>PS-1 — Table 1</option>' in page
    assert PackingSession.objects.get().station == station


def test_an_unknown_station_is_refused(shelves: None) -> None:
    client = client_for(packer())

    response = post(client, "/staff/packing/station/", {"station": "999"})

    assert said(response) == [("error", "Choose your packing station from the list.")]
    assert "fulfillment_packing_station" not in client.session


def test_a_box_is_opened_and_units_are_scanned_into_it(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 2})
    picked(order)
    pat = packer("pat")
    opened(order, pat)
    client = client_for(pat)

    opened_box = post(client, f"/staff/packing/{order.number}/box/", {"package_type": "BOX-S"})
    scanned = post(client, f"/staff/packing/{order.number}/scan/", {"code": "111", "quantity": "2"})

    assert said(opened_box) == [("success", "Package 1 is a Box BOX-S: scan the units into it.")]
    assert said(scanned) == [
        ("success", "TEE: 2 of 2 in package 1. Every unit is verified: weigh the box and complete.")
    ]
    assert list(PackageItem.objects.values_list("package__sequence", "product__sku", "quantity")) == [(1, "TEE", 2)]
    page = client.get(f"/staff/packing/{order.number}/").content.decode()
    assert "expected 550 g ± 55 g" in page
    assert 'name="weight_grams" type="number" inputmode="numeric" min="1" required autofocus' in page


def test_an_unknown_box_or_a_scan_without_a_box_is_refused(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    opened(order, pat)
    client = client_for(pat)

    unknown = post(client, f"/staff/packing/{order.number}/box/", {"package_type": "CRATE"})
    no_box = post(client, f"/staff/packing/{order.number}/scan/", {"code": "TEE"})

    assert said(unknown) == [("error", "No package type 'CRATE'; choose one of: BOX-M, BOX-S.")]
    assert said(no_box) == [("error", "Choose a box first, then scan the units into it.")]
    assert not Package.objects.exists() and not PackageItem.objects.exists()


def test_a_unit_not_in_the_order_is_refused_in_red_and_recorded(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    opened(order, pat)
    client = client_for(pat)
    post(client, f"/staff/packing/{order.number}/box/", {"package_type": "BOX-S"})

    response = post(client, f"/staff/packing/{order.number}/scan/", {"code": "MUG"})

    assert f'role="alert">MUG (Mug) is not in order {order.number}. Put it aside' in response.content.decode()
    assert not PackageItem.objects.exists()
    assert AccuracyEvent.objects.get().kind == AccuracyKind.WRONG_PACK_SCAN


def packed_into_box(order: Order, user: Any, client: Client, code: str = "TEE", quantity: int = 1) -> None:
    opened(order, user)
    post(client, f"/staff/packing/{order.number}/box/", {"package_type": "BOX-S"})
    post(client, f"/staff/packing/{order.number}/scan/", {"code": code, "quantity": quantity})


def test_a_weight_within_the_tolerance_closes_the_box(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    client = client_for(pat)
    packed_into_box(order, pat, client)

    response = post(client, f"/staff/packing/{order.number}/weigh/", {"sequence": 1, "weight_grams": "360"})

    assert said(response) == [("success", "Package 1 is closed at 360 g.")]
    package = Package.objects.get()
    assert (package.status, package.weight_grams, package.expected_weight_grams) == (PackageStatus.CLOSED, 360, 350)


def test_a_weight_out_of_tolerance_asks_for_a_supervisor_and_closes_nothing(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    client = client_for(pat)
    packed_into_box(order, pat, client)

    response = post(client, f"/staff/packing/{order.number}/weigh/", {"sequence": 1, "weight_grams": "900"})

    assert went_to(response) == f"/staff/packing/{order.number}/?override=1&weight=900"
    assert said(response) == [
        (
            "error",
            "Package 1 weighs 900 g but should weigh about 350 g (± 50 g). "
            "Check what is in it, or ask a supervisor to approve the weight.",
        )
    ]
    assert Package.objects.get().status == PackageStatus.OPEN
    page = response.content.decode()
    assert "Approve the weight of package 1" in page
    assert 'name="supervisor"' in page and 'name="password"' in page


def test_a_supervisor_with_a_wrong_password_approves_nothing(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    boss = manager("boss")
    boss.set_password("right one")
    boss.save()
    client = client_for(pat)
    packed_into_box(order, pat, client)
    approval = {"override": "1", "sequence": 1, "weight_grams": 900, "reason": "Heavy wrapping"}

    wrong = post(
        client, f"/staff/packing/{order.number}/weigh/", {**approval, "supervisor": "boss", "password": "wrong"}
    )
    no_reason = post(
        client,
        f"/staff/packing/{order.number}/weigh/",
        {**approval, "reason": "", "supervisor": "boss", "password": "right one"},
    )

    assert said(wrong) == [
        ("error", "That supervisor user name and password do not match. Ask the supervisor to type them again.")
    ]
    assert said(no_reason) == [("error", "Say why the weight is approved.")]
    assert went_to(wrong) == went_to(no_reason) == f"/staff/packing/{order.number}/?override=1&weight=900"
    assert Package.objects.get().status == PackageStatus.OPEN
    assert not AccuracyEvent.objects.exists()


def test_a_supervisor_without_the_right_cannot_approve(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    colleague = packer("cole")
    colleague.set_password("secret words")
    colleague.save()
    client = client_for(pat)
    packed_into_box(order, pat, client)

    approval = {"override": "1", "sequence": 1, "weight_grams": 900, "reason": "Looks fine"}
    response = post(
        client, f"/staff/packing/{order.number}/weigh/", {**approval, "supervisor": "cole", "password": "secret words"}
    )

    assert said(response) == [("error", "cole cannot approve package weights; ask a supervisor.")]
    assert Package.objects.get().status == PackageStatus.OPEN
    assert not AccuracyEvent.objects.exists()


def test_a_supervisors_password_approves_the_weight_and_the_ledger_names_them(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    boss = manager("boss")
    boss.set_password("right one")
    boss.save()
    client = client_for(pat)
    packed_into_box(order, pat, client)

    approval = {"override": "1", "sequence": 1, "weight_grams": 900, "reason": "Heavy wrapping"}
    response = post(
        client, f"/staff/packing/{order.number}/weigh/", {**approval, "supervisor": "boss", "password": "right one"}
    )

    assert said(response) == [("success", "Package 1 is closed at 900 g. Weight approved by boss.")]
    package = Package.objects.get()
    assert (package.status, package.weight_override_by, package.weight_override_reason) == (
        PackageStatus.CLOSED,
        "boss",
        "Heavy wrapping",
    )
    event = AccuracyEvent.objects.get()
    assert (event.kind, event.user, event.supervisor, event.package) == (
        AccuracyKind.WEIGHT_OVERRIDE,
        pat,
        boss,
        package,
    )


def test_a_packer_who_may_approve_weights_gives_only_a_reason(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    boss = manager("boss")
    client = client_for(boss)
    packed_into_box(order, boss, client)

    page = client.get(f"/staff/packing/{order.number}/?override=1&weight=900").content.decode()
    response = post(
        client,
        f"/staff/packing/{order.number}/weigh/",
        {"override": "1", "sequence": 1, "weight_grams": 900, "reason": "Checked the box myself"},
    )

    assert 'name="reason"' in page and 'name="supervisor"' not in page and 'name="password"' not in page
    assert said(response) == [("success", "Package 1 is closed at 900 g. Weight approved by boss.")]
    assert AccuracyEvent.objects.get().supervisor == boss


def test_completing_packing_packs_the_order_and_goes_back_to_the_scan(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    client = client_for(pat)
    packed_into_box(order, pat, client)
    post(client, f"/staff/packing/{order.number}/weigh/", {"sequence": 1, "weight_grams": "350"})
    page = client.get(f"/staff/packing/{order.number}/").content.decode()

    response = post(client, f"/staff/packing/{order.number}/complete/")

    assert '<button type="submit" class="big" autofocus>Complete packing</button>' in page
    assert f'href="/staff/packing/{order.number}/slip/"' in page
    assert went_to(response) == "/staff/packing/"
    assert said(response) == [
        (
            "success",
            f"Order {order.number} packed; its labels are being made (print them under Labels). "
            "Scan the next order or tote.",
        )
    ]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED


def test_completing_with_units_not_verified_is_refused_and_changes_nothing(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 2})
    picked(order)
    pat = packer("pat")
    client = client_for(pat)
    packed_into_box(order, pat, client)
    page = client.get(f"/staff/packing/{order.number}/").content.decode()

    response = post(client, f"/staff/packing/{order.number}/complete/")

    assert '<button type="submit" class="big" disabled>Complete packing</button>' in page
    assert said(response) == [("error", "Not every unit is verified: TEE 1 of 2. Scan the rest.")]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING
    assert PackingSession.objects.get().status == "open"


def test_an_order_not_open_for_packing_sends_the_packer_back_to_the_scan(shelves: None) -> None:
    order = paid_order({"TEE": 1})

    response = client_for(packer()).get(f"/staff/packing/{order.number}/", follow=True)

    assert went_to(response) == "/staff/packing/"
    assert said(response) == [
        ("error", f"Order {order.number} is not open for packing. Scan its number or tote to open it.")
    ]


def test_the_packing_slip_opens_inline_under_the_order_number(shelves: None, boxes: None) -> None:
    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    client = client_for(pat)
    packed_into_box(order, pat, client)

    response = client.get(f"/staff/packing/{order.number}/slip/")

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{order.number}.pdf"'
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert order.number in text and "TEE" in text


def test_the_packing_page_queries_do_not_grow_with_lines_and_packages(shelves: None, boxes: None) -> None:
    stock("CAP", 10, "C-01", 30, name="Cap")
    small, large = paid_order({"TEE": 1}), paid_order({"TEE": 2, "MUG": 1, "CAP": 1})
    picked(small)
    picked(large)
    pat = packer("pat")
    client = client_for(pat)
    packed_into_box(small, pat, client)
    packed_into_box(large, pat, client, quantity=2)
    post(client, f"/staff/packing/{large.number}/weigh/", {"sequence": 1, "weight_grams": "550"})
    post(client, f"/staff/packing/{large.number}/box/", {"package_type": "BOX-M"})
    post(client, f"/staff/packing/{large.number}/scan/", {"code": "MUG"})
    client.get(f"/staff/packing/{small.number}/")

    with CaptureQueriesContext(connection) as few:
        client.get(f"/staff/packing/{small.number}/")
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/staff/packing/{large.number}/").status_code == 200

    assert Package.objects.filter(order=large).count() == 2
    assert len(many) == len(few) <= 12


def test_staff_without_a_role_see_no_fulfillment_links() -> None:
    page = client_for(make_staff(None)).get("/staff/").content.decode()

    assert "/staff/picking/" not in page and "/staff/packing/" not in page


def test_supervisor_passwords_are_limited_per_station_address(shelves: None, boxes: None) -> None:
    from django.core.cache import cache

    order = paid_order({"TEE": 1})
    picked(order)
    pat = packer("pat")
    manager("boss")
    client = client_for(pat)
    packed_into_box(order, pat, client)
    guess = {"override": "1", "sequence": 1, "weight_grams": 900, "reason": "Heavy", "supervisor": "boss"}
    address = "10.77.0.1"
    try:
        answers = [
            client.post(
                f"/staff/packing/{order.number}/weigh/", {**guess, "password": f"guess{i}"}, REMOTE_ADDR=address
            )
            for i in range(11)
        ]
        last = client.get(answers[-1]["Location"])
    finally:
        cache.delete(f"throttle_supervisor_override_{address}")

    assert "Too many supervisor password attempts" in last.content.decode()
    assert Package.objects.get().status == PackageStatus.OPEN
