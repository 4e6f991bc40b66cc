"""Input and output shapes of an order's invoice and refunds endpoints. Input and output are
separate classes and carry no business rules: those live in services."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.enums import OrderStatus, PaymentMethod
from orders.models import Invoice, Order
from orders.serializers import money

AMOUNT_ERRORS = {
    "invalid": "Send the amount given back as a number, such as 12.50.",
    "min_value": "A refund must be more than 0: send the amount given back, such as 12.50.",
    "max_decimal_places": "Send the amount in whole cents, at most two decimals, such as 12.50.",
    "max_digits": "That amount is larger than any order: check it.",
    "max_whole_digits": "That amount is larger than any order: check it.",
}


# --- input ----------------------------------------------------------------------------------


class RefundInput(serializers.Serializer):
    amount = money(
        min_value=Decimal("0.01"),
        error_messages=AMOUNT_ERRORS,
        help_text="The amount given back, in the order's currency; at most what was paid and not yet refunded.",
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices, help_text="How the money went back.")
    reference = serializers.CharField(
        max_length=255,
        help_text="The payment provider's or bank's reference of the refund; unique per method. Sending one "
        "already recorded for this order records nothing more.",
    )
    reason = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Why; kept in the order's timeline."
    )


# --- output ---------------------------------------------------------------------------------


class InvoiceOutput(serializers.Serializer):
    number = serializers.CharField(help_text="The invoice number: the year's sequence, without gaps.")
    order = serializers.CharField(source="order.number", help_text="The order's number.")
    issued_at = serializers.DateTimeField()
    currency = serializers.CharField()
    subtotal = money(read_only=True)
    shipping = money(read_only=True)
    total = money(read_only=True)
    download_url = serializers.SerializerMethodField(help_text="Where the PDF is (the same address without JSON).")

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, invoice: Invoice) -> str:
        path = reverse("api-v1:order-invoice", kwargs={"number": invoice.order.number})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RefundOutput(serializers.Serializer):
    id = serializers.IntegerField()
    amount = money(read_only=True)
    currency = serializers.CharField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    recorded_by = serializers.CharField(source="actor_label", help_text="Who recorded it.")


class RefundOrderOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    total = money(read_only=True)
    amount_paid = money(read_only=True)
    amount_refunded = money(read_only=True)
    refundable = serializers.SerializerMethodField(help_text="Paid and not yet refunded: the most a refund can be.")

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_refundable(self, order: Order) -> str:
        return str(order.amount_paid - order.amount_refunded)


class RefundResultOutput(RefundOutput):
    order = RefundOrderOutput()
