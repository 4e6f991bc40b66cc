"""Tracking numbers and labels: check digits, the 4 x 6 PDF (its barcode decoded back from the
rendered page) and the ZPL variant."""

from __future__ import annotations

import io

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from shipping.labels import LabelData, label_pdf, label_zpl
from shipping.tracking_numbers import check_digit, is_valid, tracking_number

LABEL = LabelData(
    tracking_number=tracking_number(prefix="FL", serial=47312482, country="PL"),
    carrier="Own fleet",
    service="Standard",
    sender=["OMS Shop", "Magazynowa 1", "90-001 Łódź", "PL"],
    recipient=["Ann Lee", "Main St 1", "00-001 Warsaw", "PL"],
    weight_grams=1640,
    package=2,
    packages=3,
    order_number="OMS-000123",
)


def test_the_s10_check_digit_matches_the_standards_worked_example() -> None:
    assert check_digit("47312482") == 9
    assert tracking_number(prefix="rr", serial=47312482, country="gb") == "RR473124829GB"


@pytest.mark.parametrize(("serial", "digit"), [("00000000", 5), ("00000008", 0), ("00000002", 8)])
def test_the_check_digit_maps_11_to_5_and_10_to_0(serial: str, digit: int) -> None:
    # Sums 0 (11 - 0 = 11 -> 5), 56 (56 % 11 = 1: 11 - 1 = 10 -> 0), 14 (14 % 11 = 3: 8).
    assert check_digit(serial) == digit


def test_a_mistyped_or_swapped_digit_is_caught() -> None:
    number = tracking_number(prefix="FL", serial=47312482, country="PL")
    assert is_valid(number) and is_valid(number.lower())
    assert not is_valid(number.replace("473", "474"))  # one digit wrong
    assert not is_valid(number.replace("4731", "7431"))  # two digits swapped
    assert not is_valid("FL47312482PL")


def test_bad_tracking_number_input_is_refused() -> None:
    with pytest.raises(ValueError):
        tracking_number(prefix="F1", serial=1, country="PL")
    with pytest.raises(ValueError):
        tracking_number(prefix="FL", serial=100_000_000, country="PL")


def test_the_label_is_4_by_6_inches_and_says_what_it_claims() -> None:
    pdf = label_pdf(LABEL)

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (288, 432)
    text = page.extract_text()
    for expected in ("Own fleet", "Standard", "2 of 3", "OMS Shop", "90-001 Łódź", "Ann Lee", "00-001 Warsaw",
                     "1.64 kg", "OMS-000123", LABEL.tracking_number):  # fmt: skip
        assert expected in text, expected


def test_the_barcode_on_the_rendered_label_decodes_to_the_tracking_number() -> None:
    document = pypdfium2.PdfDocument(label_pdf(LABEL))
    image = document[0].render(scale=300 / 72).to_pil()

    decoded = zxingcpp.read_barcodes(image)

    assert [(b.format, b.text) for b in decoded] == [(zxingcpp.BarcodeFormat.Code128, LABEL.tracking_number)]


def test_the_zpl_label_carries_the_same_data_and_a_code_128_barcode() -> None:
    zpl = label_zpl(LABEL)

    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert f"^BCN,200,Y,N,N^FD{LABEL.tracking_number}^FS" in zpl
    for expected in ("Own fleet Standard", "2 of 3", "Ann Lee", "90-001 Łódź", "Weight 1.64 kg", "OMS-000123"):
        assert expected in zpl, expected


def test_zpl_control_characters_in_addresses_cannot_break_the_label() -> None:
    zpl = label_zpl(LABEL.__class__(**{**LABEL.__dict__, "recipient": ["Ann ^XZ Lee~", "Main St 1"]}))

    assert "Ann XZ Lee" in zpl and zpl.count("^XZ") == 1
