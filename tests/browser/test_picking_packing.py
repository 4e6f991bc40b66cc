"""A picker and a packer at work in real Chromium, on a phone-sized screen, typing codes the
way a keyboard-wedge scanner does (the code, then Enter); the database is checked after."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fulfillment.enums import AccuracyKind, PackageStatus
from fulfillment.models import AccuracyEvent, Package
from fulfillment.selectors import pick_list_tasks
from fulfillment.services import picking
from inventory.models import CountStatus, CycleCount, StockLevel, StockMovement
from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order
from tests.fulfillment.helpers import box, manager, packer, paid_order, picker, stock

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "scan all the things 42"
PHONE = {"width": 390, "height": 844}


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(page: Page, base_url: str, username: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{base_url}/staff/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Each role lands on its own work (dashboard:start); every staff page offers the log-out.
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def scan(page: Page, label: str, code: str) -> None:
    """What a keyboard-wedge scanner does: types the code into the focused field and Enter."""
    field = page.get_by_label(label)
    expect(field).to_be_focused()
    field.fill(code)
    field.press("Enter")


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_picker_picks_a_batch_of_three_with_a_wrong_scan_and_a_short_pick(page: Page, live_server) -> None:
    stock("TEE", 5, "A-01", 10, name="T-shirt", weight_grams=200)
    stock("MUG", 3, "B-01", 20, name="Mug", weight_grams=300)
    stock("CAP", 1, "C-01", 30, name="Cap", weight_grams=100)
    first = paid_order({"TEE": 2})
    second = paid_order({"MUG": 1, "TEE": 1})
    third = paid_order({"CAP": 1})
    pia = with_password(picker("pia"))

    log_in(page, live_server.url, "pia")
    page.get_by_role("navigation").get_by_role("link", name="Picking").click()
    expect(page.get_by_text("Ready to pick: 3 orders.")).to_be_visible()
    page.get_by_label("Orders in the batch").select_option("3")
    page.get_by_role("button", name="Take next batch").click()
    expect(page.get_by_role("status")).to_contain_text("with 3 order(s) is yours: start picking")
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("Pick list ")
    page.get_by_role("button", name="Start picking").click()

    task = page.get_by_role("article", name="Current pick")
    expect(task).to_contain_text("Go to bin A-01")
    expect(task).to_contain_text("Pick 2 x TEE — T-shirt")
    expect(task).to_contain_text(f"into tote {number}-1 (order {first.number})")
    expect(task).to_contain_text("0 of 5 units picked")
    assert fits_the_screen(page)

    scan(page, "Scan the item", "MUG")  # the mug from the next bin, at the wrong bin
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Wrong item: MUG is MUG (Mug). Bin A-01 should give TEE (T-shirt).")
    expect(refusal).to_have_css("background-color", "rgb(255, 217, 214)")  # red
    expect(task).to_contain_text("Pick 2 x TEE")

    page.get_by_role("spinbutton", name="Units").fill("2")  # two units in one go
    page.get_by_label("Scan the item").click()
    scan(page, "Scan the item", "TEE")
    expect(page.get_by_role("status")).to_contain_text(f"2 x TEE into tote {number}-1. Done with this bin.")
    expect(task).to_contain_text(f"Pick 1 x TEE — T-shirt into tote {number}-2 (order {second.number})")

    scan(page, "Scan the item", "tee")
    expect(task).to_contain_text("Go to bin B-01")
    scan(page, "Scan the item", "MUG")
    expect(task).to_contain_text("Go to bin C-01")
    expect(task).to_contain_text(f"Pick 1 x CAP — Cap into tote {number}-3 (order {third.number})")
    expect(task).to_contain_text("4 of 5 units picked")

    page.get_by_role("button", name="Bin is short").click()
    found = page.get_by_label("How many did you find?")
    found.fill("0")
    found.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        f"No other bin has CAP: order {third.number} goes back to the queue. Set tote {number}-3 aside."
    )
    expect(page.get_by_text("Pick list complete: take the totes to packing")).to_be_visible()

    statuses = dict(Order.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list("number", "status"))
    assert statuses == {
        first.number: OrderStatus.PICKING,
        second.number: OrderStatus.PICKING,
        third.number: OrderStatus.PAID,
    }
    picks = StockMovement.objects.filter(kind="pick").order_by("id")
    assert [(m.product.sku, m.location.code, m.on_hand_delta, m.allocated_delta, m.order_number) for m in picks] == [
        ("TEE", "A-01", -2, -2, first.number),
        ("TEE", "A-01", -1, -1, second.number),
        ("MUG", "B-01", -1, -1, second.number),
    ]
    levels = {(s.product.sku, s.location.code): (s.on_hand, s.allocated) for s in StockLevel.objects.all()}
    assert levels == {("TEE", "A-01"): (2, 0), ("MUG", "B-01"): (2, 0), ("CAP", "C-01"): (1, 0)}
    events = [
        (e.kind, e.order_number, e.sku, e.location, e.expected, e.actual, e.user_id)
        for e in AccuracyEvent.objects.order_by("id")
    ]
    assert events == [
        (AccuracyKind.WRONG_SCAN, first.number, "TEE", "A-01", "TEE", "MUG", pia.pk),
        (AccuracyKind.SHORT_PICK, third.number, "CAP", "C-01", "1", "0", pia.pk),
    ]
    count = CycleCount.objects.get(locations__code="C-01")
    assert count.status == CountStatus.OPEN
    assert AccuracyEvent.objects.get(kind=AccuracyKind.SHORT_PICK).note == f"cycle count {count.reference}"


def picked(order: Order) -> str:
    """Picks one order through the services; answers its tote."""
    pam = picker("pam")
    actor = Actor.for_user(pam)
    pick_list = picking.pick_list_create(actor=actor, picker=pam, order_numbers=[order.number])
    picking.pick_list_start(actor=actor, number=pick_list.number)
    for task in pick_list_tasks(pick_list):
        picking.pick_scan(actor=actor, number=pick_list.number, code=task.product.sku, quantity=task.quantity)
    return f"{pick_list.number}-1"


def test_a_packer_packs_an_order_into_two_boxes_and_a_supervisor_approves_a_weight(page: Page, live_server) -> None:
    stock("TEE", 5, "A-01", 10, name="T-shirt", weight_grams=200, barcode="5901234123457")
    stock("MUG", 5, "B-01", 20, name="Mug", weight_grams=300)
    order = paid_order({"TEE": 2, "MUG": 1})
    tote = picked(order)
    box("BOX-S", tare=150)
    box("BOX-M", tare=300)
    pat = with_password(packer("pat"))
    max_ = with_password(manager("max"))

    log_in(page, live_server.url, "pat")
    page.get_by_role("navigation").get_by_role("link", name="Packing").click()
    scan(page, "Scan an order or tote", tote)
    expect(page.get_by_role("heading", name=f"Packing {order.number}")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/staff/packing/{order.number}/")

    page.get_by_role("button", name="BOX-S").click()
    expect(page.get_by_role("status")).to_contain_text("Package 1 is a Box BOX-S: scan the units into it.")
    scan(page, "Scan a unit", "5901234123457")  # the T-shirt's barcode
    expect(page.get_by_role("status")).to_contain_text("TEE: 1 of 2 in package 1.")
    scan(page, "Scan a unit", "TEE")
    expect(page.get_by_role("row", name="TEE")).to_contain_text("2 2 ✓")
    weight = page.get_by_label("Weight of package 1 in grams")
    expect(page.get_by_role("article", name="Package 1")).to_contain_text("expected 550 g ± 55 g")
    weight.fill("560")
    weight.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Package 1 is closed at 560 g.")

    page.get_by_role("button", name="BOX-M").click()
    scan(page, "Scan a unit", "MUG")
    expect(page.get_by_role("status")).to_contain_text("Every unit is verified: weigh the box and complete.")
    scale = page.get_by_label("Weight of package 2 in grams")
    expect(scale).to_be_focused()  # a scale typing its reading lands here
    scale.fill("900")
    scale.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Package 2 weighs 900 g but should weigh about 600 g (± 60 g).")

    approval = page.get_by_role("article", name="Weight approval")
    expect(page.get_by_label("Supervisor user name")).to_be_focused()
    page.get_by_label("Supervisor user name").fill("max")
    page.get_by_label("Supervisor password").fill("not the password")
    page.get_by_label("Reason").fill("Mug gift-wrapped in a heavy box")
    approval.get_by_role("button", name="Approve the weight and close the package").click()
    expect(page.get_by_role("alert")).to_contain_text("That supervisor user name and password do not match.")
    assert Package.objects.get(order=order, sequence=2).status == PackageStatus.OPEN

    page.get_by_label("Supervisor user name").fill("max")
    page.get_by_label("Supervisor password").fill(PASSWORD)
    page.get_by_label("Reason").fill("Mug gift-wrapped in a heavy box")
    page.get_by_role("button", name="Approve the weight and close the package").click()
    expect(page.get_by_role("status")).to_contain_text("Package 2 is closed at 900 g. Weight approved by max.")
    assert fits_the_screen(page)

    page.get_by_role("button", name="Complete packing").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order {order.number} packed")
    expect(page).to_have_url(f"{live_server.url}/staff/packing/")
    expect(page.get_by_label("Scan an order or tote")).to_be_focused()

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
    packages = [
        (p.sequence, p.package_type.code, p.status, p.weight_grams, p.expected_weight_grams, p.weight_override_by)
        for p in Package.objects.filter(order=order).order_by("sequence")
    ]
    assert packages == [
        (1, "BOX-S", PackageStatus.CLOSED, 560, 550, ""),
        (2, "BOX-M", PackageStatus.CLOSED, 900, 600, "max"),
    ]
    override = AccuracyEvent.objects.get()
    assert (override.kind, override.order_number, override.user_id, override.supervisor_id) == (
        AccuracyKind.WEIGHT_OVERRIDE,
        order.number,
        pat.pk,
        max_.pk,
    )
    assert (override.package.sequence, override.actual, override.note) == (
        2,
        "900 g",
        "Mug gift-wrapped in a heavy box",
    )
