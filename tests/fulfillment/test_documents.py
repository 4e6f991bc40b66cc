"""Pick list and packing slip PDFs, read back as text the way a person reads them."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from fulfillment.documents import packing_slip_pdf, pick_list_pdf
from fulfillment.models import PickList
from fulfillment.services import packing, picking
from oms.common.actors import Actor
from oms.common.errors import NotFound
from orders import services
from orders.demo import order_walk_to
from orders.enums import OrderStatus
from orders.models import Order
from tests.factories import SYSTEM, ShippingMethodFactory
from tests.fulfillment.helpers import box, packer, paid_order, picker, stock

pytestmark = pytest.mark.django_db


def pages_of(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def text_of(pdf: bytes) -> str:
    return "\n".join(pages_of(pdf))


def flat(text: str) -> str:
    """The text with every run of spaces and line breaks as one space: table cells wrap."""
    return " ".join(text.split())


def positions(text: str, *needles: str) -> list[int]:
    """Where each needle first appears; fails on one that does not."""
    found = [text.find(n) for n in needles]
    assert -1 not in found, [n for n, at in zip(needles, found, strict=True) if at == -1]
    return found


def special_order(lines: dict[str, int], *, note: str = "") -> Order:
    """A paid order from a customer whose name and address need escaping in PDF markup."""
    ShippingMethodFactory()
    draft = services.OrderDraft(
        channel="web",
        currency="EUR",
        customer=services.CustomerData(email="orders@lee.example", name="Lee & Sons <Ltd>"),
        shipping_address=services.AddressData(
            name="Lee & Sons <Ltd>",
            company="Goods > Bads",
            line1="Piotrkowska 5/7",
            line2="Gate <B>",
            city="Łódź",
            postal_code="90-001",
            country="PL",
            phone="+48 42 000 00 00",
        ),
        lines=[services.LineData(sku=sku, quantity=q) for sku, q in lines.items()],
        shipping_method="standard",
        customer_note=note,
    )
    order = services.order_create(actor=SYSTEM, draft=draft).order
    order_walk_to(order=order, status=OrderStatus.PAID, actor=SYSTEM)
    return Order.objects.get(pk=order.pk)


def started_list(*orders: Order) -> PickList:
    pam = picker("pam")
    actor = Actor.for_user(pam)
    pick_list = picking.pick_list_create(actor=actor, picker=pam, order_numbers=[o.number for o in orders])
    picking.pick_list_start(actor=actor, number=pick_list.number)
    return pick_list


# --- Pick list ---------------------------------------------------------------------------------


def test_a_pick_list_shows_its_header_and_totes() -> None:
    stock("TEE", 5, "A-01", 10, name="T-shirt", barcode="111")
    first = paid_order({"TEE": 2})
    second = special_order({"TEE": 3})
    pick_list = started_list(first, second)

    text = text_of(pick_list_pdf(pick_list.number))

    assert f"Pick list {pick_list.number}" in text
    assert "MAIN - Warehouse MAIN" in text and "pam" in text and "Picking" in text
    assert "Orders 2 Units 5" in flat(text)
    tote_1, order_1, tote_2, order_2 = positions(
        text, f"{pick_list.number}-1", first.number, f"{pick_list.number}-2", second.number
    )
    assert tote_1 < order_1 < tote_2 < order_2
    assert "Ann Lee" in text and "Lee & Sons <Ltd>" in text


def test_the_pick_path_lists_every_bin_in_walking_order_with_sku_and_quantity() -> None:
    stock("TEE", 5, "C-03", 30, name="T-shirt", barcode="111")
    stock("MUG", 5, "A-01", 10, name="Mug", barcode="222")
    stock("CAP", 5, "B-02", 20, name="Cap", barcode="333")
    order = paid_order({"TEE": 2, "MUG": 1, "CAP": 3})
    pick_list = started_list(order)

    text = text_of(pick_list_pdf(pick_list.number))

    path = text[text.index("Pick path") :]
    a, b, c = positions(path, "A-01", "B-02", "C-03")
    assert a < b < c
    rows = [path[a:b], path[b:c], path[c:]]
    for row, (sku, name, barcode, quantity) in zip(
        rows, [("MUG", "Mug", "222", "1"), ("CAP", "Cap", "333", "3"), ("TEE", "T-shirt", "111", "2")], strict=True
    ):
        assert [sku, name, barcode, quantity] == [w for w in row.split() if w in (sku, name, barcode, quantity)][:4]
        assert f"{pick_list.number}-1" in row and order.number in row


def test_picked_and_short_tasks_say_so_instead_of_an_empty_box() -> None:
    stock("TEE", 5, "A-01", 10)
    stock("MUG", 1, "B-01", 20)
    stock("MUG", 5, "C-01", 30)
    order = paid_order({"TEE": 1, "MUG": 2})
    pick_list = started_list(order)
    actor = Actor.for_user(pick_list.picker)
    picking.pick_scan(actor=actor, number=pick_list.number, code="TEE")
    mug = pick_list.tasks.get(location__code="B-01")
    picking.pick_short(actor=actor, number=pick_list.number, task_id=mug.pk, found=0)

    path = flat(text_of(pick_list_pdf(pick_list.number))).split("Pick path", 1)[1]

    a, b, c = positions(path, "A-01", "B-01", "C-01")
    assert a < b < c
    assert "done" in path[a:b] and "short, 0 found" in path[b:c]
    assert "done" not in path[c:] and "short" not in path[c:]


def test_an_order_gone_short_is_marked_and_its_cancelled_tasks_are_left_off_the_path() -> None:
    stock("TEE", 1, "A-01", 10)
    stock("MUG", 1, "B-01", 20)
    stock("CAP", 1, "C-01", 30)
    short_order = paid_order({"TEE": 1, "MUG": 1})
    other = paid_order({"CAP": 1})
    pick_list = started_list(short_order, other)
    mug = pick_list.tasks.get(location__code="B-01")
    picking.pick_short(actor=Actor.for_user(pick_list.picker), number=pick_list.number, task_id=mug.pk, found=0)

    text = flat(text_of(pick_list_pdf(pick_list.number)))

    assert f"{short_order.number} Ann Lee (Short of stock, back in the queue) 0" in text
    assert "Units 1" in text
    path = text.split("Pick path", 1)[1]
    assert "A-01" not in path  # its TEE task was cancelled when the order went short
    b01, c01 = positions(path, "B-01", "C-01")
    assert b01 < c01 and "short, 0 found" in path[b01:c01]


def test_a_long_pick_list_flows_over_pages_with_numbers_and_the_header_on_each() -> None:
    skus = {f"SKU-{i:02d}": 1 for i in range(40)}
    for i, sku in enumerate(skus):
        stock(sku, 1, f"R-{i:02d}", i)
    pick_list = started_list(paid_order(skus))

    pages = pages_of(pick_list_pdf(pick_list.number))

    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert f"page {n} of {len(pages)}" in page
        assert f"Pick list {pick_list.number}" in page
        assert "Bin" in page and "Tote / order" in page
    everything = "\n".join(pages)
    bins = positions(everything, *[f"R-{i:02d}" for i in range(40)])
    assert bins == sorted(bins)
    assert all("R-" in page.split("Tote / order", 1)[1] for page in pages)  # each page carries bins


def test_a_pick_list_pdf_is_the_same_every_time_and_says_what_it_is() -> None:
    stock("TEE", 5, "A-01", 10)
    pick_list = started_list(paid_order({"TEE": 1}))

    pdf = pick_list_pdf(pick_list.number)

    assert pick_list_pdf(pick_list.number) == pdf
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == f"Pick list {pick_list.number}" and metadata.author == "OMS"


def test_an_unknown_pick_list_is_not_found() -> None:
    with pytest.raises(NotFound) as missing:
        pick_list_pdf("PL-999999")

    assert missing.value.code == "pick_list_not_found"


# --- Packing slip ------------------------------------------------------------------------------


def test_a_packing_slip_printed_during_picking_shows_address_lines_and_note() -> None:
    stock("TEE", 5, "A-01", 10, name="T-shirt <organic>")
    stock("MUG", 5, "B-01", 20, name="Mug & saucer")
    order = special_order({"TEE": 2, "MUG": 1}, note="Leave with the neighbour & ring twice")
    started_list(order)

    text = text_of(packing_slip_pdf(order.number))

    assert "Packing slip" in text and order.number in text and "Standard delivery" in text
    name, company, line1, line2, city, country = positions(
        text, "Lee & Sons <Ltd>", "Goods > Bads", "Piotrkowska 5/7", "Gate <B>", "90-001 Łódź", "Poland"
    )
    assert name < company < line1 < line2 < city < country
    tee, mug = positions(text, "TEE", "MUG")
    assert tee < mug and "T-shirt <organic>" in text and "Mug & saucer" in text
    assert "Leave with the neighbour & ring twice" in text
    assert "Not packed yet." in text


def test_a_packing_slip_after_packing_lists_each_package_with_its_weight() -> None:
    stock("TEE", 5, "A-01", 10, weight_grams=200, barcode="111")
    stock("MUG", 5, "B-01", 20, weight_grams=1_300, barcode="222")
    box("BOX-S", tare=150)
    box("BOX-M", tare=300)
    order = paid_order({"TEE": 2, "MUG": 1})
    pick_list = started_list(order)
    pam = Actor.for_user(pick_list.picker)
    for task in pick_list.tasks.all():
        picking.pick_scan(actor=pam, number=pick_list.number, code=task.product.sku, quantity=task.quantity)
    pat = Actor.for_user(packer("pat"))
    packing.packing_open(actor=pat, code=order.number)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-S")
    packing.pack_scan(actor=pat, order_number=order.number, code="TEE", quantity=2)
    packing.package_close(actor=pat, order_number=order.number, sequence=1, weight_grams=560)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-M")
    packing.pack_scan(actor=pat, order_number=order.number, code="MUG")
    packing.package_close(actor=pat, order_number=order.number, sequence=2, weight_grams=1_640)
    packing.packing_complete(actor=pat, order_number=order.number)

    text = text_of(packing_slip_pdf(order.number))

    first, second = positions(text, "1 of 2", "2 of 2")
    assert first < second
    assert "Box BOX-S" in text[first:second] and "2 x TEE" in text[first:second] and "560 g" in text[first:second]
    assert "Box BOX-M" in text[second:] and "1 x MUG" in text[second:] and "1,640 g" in text[second:]
    assert "Ann Lee" in text and "Main St 1" in text and "00-001 Warsaw" in text


def test_a_packing_slip_carries_the_shop_name_and_no_prices(settings) -> None:
    settings.OMS_SHOP_NAME = "Lee & Sons <Ltd>"
    stock("TEE", 5, "A-01", 10)
    order = paid_order({"TEE": 1})

    pdf = packing_slip_pdf(order.number)

    text = text_of(pdf)
    assert text.startswith("Lee & Sons <Ltd>")
    assert "10.00" not in text and "EUR" not in text and str(order.total) not in text
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None and metadata.title == f"Packing slip {order.number}"


def test_an_unknown_order_has_no_packing_slip() -> None:
    with pytest.raises(NotFound) as missing:
        packing_slip_pdf("OMS-NO-SUCH")

    assert missing.value.code == "order_not_found"


def test_rendering_costs_the_same_few_queries_however_long_the_documents(django_assert_num_queries) -> None:
    skus = {f"SKU-{i:02d}": 1 for i in range(30)}
    for i, sku in enumerate(skus):
        stock(sku, 1, f"R-{i:02d}", i)
    order = paid_order(skus)
    pick_list = started_list(order)

    with django_assert_num_queries(3):
        pick_list_pdf(pick_list.number)
    with django_assert_num_queries(8):  # the order, its parts, shipping method, packages
        packing_slip_pdf(order.number)


def test_a_character_the_font_lacks_prints_as_its_plain_letter_or_a_question_mark() -> None:
    from fulfillment.documents import printable

    assert printable("Łódź Straße Москва") == "Łódź Straße Москва"
    assert printable("東京") == "??"
