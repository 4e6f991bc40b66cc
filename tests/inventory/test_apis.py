"""The products REST API: add, list, read and change catalogue entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.models import Product
from tests.factories import ProductFactory, make_order

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"
CONTRACT_BODY = {
    "sku": "TSHIRT-RED-M",
    "name": "T-shirt red M",
    "barcode": "5901234123457",
    "weight_grams": 180,
    "price": "29.90",
}


def product_url(sku: str) -> str:
    return f"{PRODUCTS_URL}{sku}/"


def body(**overrides: Any) -> dict[str, Any]:
    return {**CONTRACT_BODY, **overrides}


def product_rows() -> list[tuple[Any, ...]]:
    """Every product as stored, to show a refused request changed nothing."""
    return list(
        Product.objects.order_by("pk").values_list(
            "sku", "name", "barcode", "weight_grams", "price", "is_active", "updated_at"
        )
    )


# --- create ---------------------------------------------------------------------------------


def test_adding_a_product_answers_201_with_the_product(integrator) -> None:
    # When
    response = integrator.post(PRODUCTS_URL, CONTRACT_BODY, format="json")

    # Then
    assert response.status_code == 201, response.data
    assert {k: response.data[k] for k in CONTRACT_BODY} == CONTRACT_BODY
    assert response.data["is_active"] is True
    product = Product.objects.get(sku="TSHIRT-RED-M")
    assert (product.name, product.barcode, product.weight_grams, product.price) == (
        "T-shirt red M",
        "5901234123457",
        180,
        Decimal("29.90"),
    )


def test_a_product_needs_only_sku_name_and_price(integrator) -> None:
    response = integrator.post(PRODUCTS_URL, {"sku": "MUG-1", "name": "Mug", "price": "5.00"}, format="json")

    assert response.status_code == 201
    assert response.data["barcode"] == ""
    assert response.data["weight_grams"] == 0


def test_a_taken_sku_answers_400_duplicate(integrator) -> None:
    # Given
    integrator.post(PRODUCTS_URL, CONTRACT_BODY, format="json")
    before = product_rows()

    # When another product arrives with the same SKU
    response = integrator.post(PRODUCTS_URL, body(barcode="", name="Other"), format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "duplicate"
    assert set(response.data["fields"]) == {"sku"}
    assert product_rows() == before


def test_a_taken_barcode_answers_400_duplicate(integrator) -> None:
    integrator.post(PRODUCTS_URL, CONTRACT_BODY, format="json")
    before = product_rows()

    response = integrator.post(PRODUCTS_URL, body(sku="TSHIRT-RED-L"), format="json")

    assert response.status_code == 400
    assert response.data["code"] == "duplicate"
    assert set(response.data["fields"]) == {"barcode"}
    assert product_rows() == before


def test_products_without_barcode_do_not_clash(integrator) -> None:
    integrator.post(PRODUCTS_URL, body(barcode=""), format="json")

    response = integrator.post(PRODUCTS_URL, body(sku="TSHIRT-RED-L", barcode=""), format="json")

    assert response.status_code == 201
    assert Product.objects.count() == 2


@pytest.mark.parametrize("sku", ["TSHIRT RED", "-TSHIRT", "T$HIRT", "ÄPFEL", "", "x" * 65])
def test_a_malformed_sku_answers_400(integrator, sku: str) -> None:
    response = integrator.post(PRODUCTS_URL, body(sku=sku), format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["fields"]) == {"sku"}
    assert Product.objects.count() == 0


@pytest.mark.parametrize("price", ["-0.01", "-10", "abc", "1.234"])
def test_a_malformed_or_negative_price_answers_400(integrator, price: str) -> None:
    response = integrator.post(PRODUCTS_URL, body(price=price), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"price"}
    assert Product.objects.count() == 0


def test_a_negative_weight_answers_400(integrator) -> None:
    response = integrator.post(PRODUCTS_URL, body(weight_grams=-1), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"weight_grams"}
    assert Product.objects.count() == 0


def test_a_malformed_barcode_answers_400(integrator) -> None:
    response = integrator.post(PRODUCTS_URL, body(barcode="590 123"), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"barcode"}
    assert Product.objects.count() == 0


def test_an_empty_body_names_every_required_field(integrator) -> None:
    response = integrator.post(PRODUCTS_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"sku", "name", "price"}
    assert Product.objects.count() == 0


def test_a_sku_with_a_slash_is_refused_because_it_could_not_be_addressed(integrator) -> None:
    response = integrator.post(PRODUCTS_URL, body(sku="BOX/12", barcode=""), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"sku"}
    assert "letters, digits" in response.data["fields"]["sku"][0]
    assert Product.objects.count() == 0


def test_every_sku_the_api_accepts_can_be_read_back(integrator) -> None:
    # Given a SKU using every kind of character the rules allow
    created = integrator.post(PRODUCTS_URL, body(sku="Box_12.v2-B", barcode=""), format="json")
    assert created.status_code == 201

    # When the client reads it at its address
    response = integrator.get(product_url("Box_12.v2-B"))

    # Then it is found
    assert response.status_code == 200
    assert response.data["sku"] == "Box_12.v2-B"


def test_the_list_shows_products_by_sku(integrator) -> None:
    ProductFactory(sku="B-1")
    ProductFactory(sku="A-1")

    response = integrator.get(PRODUCTS_URL)

    assert response.status_code == 200
    assert [p["sku"] for p in response.data["results"]] == ["A-1", "B-1"]


def test_the_list_filters_by_sku_and_active_flag(integrator) -> None:
    ProductFactory(sku="A-1")
    ProductFactory(sku="B-1", is_active=False)

    assert [p["sku"] for p in integrator.get(PRODUCTS_URL, {"sku": "A-1"}).data["results"]] == ["A-1"]
    assert [p["sku"] for p in integrator.get(PRODUCTS_URL, {"is_active": "false"}).data["results"]] == ["B-1"]


def test_the_list_is_paged_by_cursor(integrator) -> None:
    for sku in ("A-1", "B-1", "C-1"):
        ProductFactory(sku=sku)

    page1 = integrator.get(PRODUCTS_URL, {"page_size": 2})
    page2 = integrator.get(page1.data["next"])

    assert [p["sku"] for p in page1.data["results"] + page2.data["results"]] == ["A-1", "B-1", "C-1"]
    assert page2.data["next"] is None


def _list_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PRODUCTS_URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_listing_costs_the_same_queries_for_3_and_30_products(integrator) -> None:
    # Given three products (and a first request, which also stamps the key's last use)
    for _ in range(3):
        ProductFactory()
    integrator.get(PRODUCTS_URL)
    with_3 = _list_queries(integrator)

    # When there are thirty
    for _ in range(27):
        ProductFactory()
    with_30 = _list_queries(integrator)

    # Then
    assert with_30 == with_3
    assert with_3 <= 6


def test_a_product_is_read_by_its_sku(integrator, product) -> None:
    response = integrator.get(product_url("TSHIRT-RED-M"))

    assert response.status_code == 200
    assert response.data["sku"] == "TSHIRT-RED-M"
    assert response.data["price"] == "29.90"


def test_an_unknown_sku_answers_404(integrator) -> None:
    response = integrator.get(product_url("NOPE-1"))

    assert response.status_code == 404
    assert response.data["code"] == "not_found"


# --- change ---------------------------------------------------------------------------------


def test_patch_changes_the_given_fields_only(integrator, product) -> None:
    # When
    response = integrator.patch(product_url(product.sku), {"price": "24.90"}, format="json")

    # Then
    assert response.status_code == 200, response.data
    assert response.data["price"] == "24.90"
    product.refresh_from_db()
    assert product.price == Decimal("24.90")
    assert product.name == "T-shirt red M"
    assert product.weight_grams == 180


def test_patch_can_retire_a_product(integrator, product) -> None:
    response = integrator.patch(product_url(product.sku), {"is_active": False}, format="json")

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.is_active is False


def test_patch_cannot_change_the_sku(integrator, product) -> None:
    integrator.patch(product_url(product.sku), {"sku": "RENAMED-1"}, format="json")

    assert Product.objects.filter(sku="TSHIRT-RED-M").exists()
    assert not Product.objects.filter(sku="RENAMED-1").exists()


def test_patch_to_a_taken_barcode_answers_400_duplicate(integrator, product) -> None:
    # Given another product holds the barcode
    ProductFactory(sku="OTHER-1", barcode="5901234123457")
    before = product_rows()

    # When
    response = integrator.patch(product_url(product.sku), {"barcode": "5901234123457"}, format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "duplicate"
    assert set(response.data["fields"]) == {"barcode"}
    assert product_rows() == before


def test_patch_with_a_negative_price_answers_400(integrator, product) -> None:
    before = product_rows()

    response = integrator.patch(product_url(product.sku), {"price": "-1.00"}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"price"}
    assert product_rows() == before


def test_patch_of_an_unknown_sku_answers_404(integrator) -> None:
    response = integrator.patch(product_url("NOPE-1"), {"price": "1.00"}, format="json")

    assert response.status_code == 404


def test_a_price_change_leaves_past_order_lines_alone(integrator) -> None:
    # Given an order for the product at 29.90
    order = make_order()
    sold_as = Product.objects.get(sku="TSHIRT-RED-M").name

    # When the price and name change
    response = integrator.patch(product_url("TSHIRT-RED-M"), {"price": "35.00", "name": "New name"}, format="json")
    assert response.status_code == 200

    # Then the order line keeps what was sold
    line = order.lines.get()
    assert (line.unit_price, line.name) == (Decimal("29.90"), sold_as)
    order.refresh_from_db()
    assert order.total == Decimal("34.89")


def test_a_product_cannot_be_deleted(integrator, product) -> None:
    response = integrator.delete(product_url(product.sku))

    assert response.status_code == 405
    assert Product.objects.filter(pk=product.pk).exists()
