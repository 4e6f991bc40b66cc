"""Input and output shapes of the orders API. Input and output are separate classes and
carry no business rules: those live in services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from orders import transitions
from orders.enums import OrderEventKind, OrderStatus, PaymentMethod, SalesChannel
from orders.models import Address, Order, OrderEvent, OrderLine, Payment

PHONE_RE = r"^\+?[0-9][0-9 ()\-.]{2,30}$"
PHONE_ERRORS: dict[str, Any] = {
    "invalid": "Enter a phone number of digits, optionally starting with +, such as +48600100200."
}


def money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# --- input ----------------------------------------------------------------------------------


class CustomerInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200)
    phone = serializers.RegexField(PHONE_RE, required=False, allow_blank=True, default="", error_messages=PHONE_ERRORS)


class AddressInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    country = CountryField(help_text="ISO 3166-1 alpha-2 code, such as PL or DE.")
    phone = serializers.RegexField(PHONE_RE, required=False, allow_blank=True, default="", error_messages=PHONE_ERRORS)


class LineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = money(
        min_value=0,
        required=False,
        help_text="The price the channel sold at. Omit to use the catalogue price.",
    )


class OrderCreateInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=SalesChannel.choices)
    external_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Unique per channel."
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        help_text="ISO 4217 code such as EUR; the shop's default when omitted.",
        error_messages={"invalid": "Use a three-letter ISO 4217 code in capitals, such as EUR."},
    )
    customer = CustomerInput()
    shipping_address = AddressInput()
    billing_address = AddressInput(required=False, help_text="Defaults to the shipping address.")
    lines = LineInput(many=True, allow_empty=False, max_length=500)  # type: ignore[call-arg]
    shipping_method = serializers.SlugField(max_length=50)
    shipping_price = money(min_value=0, required=False, help_text="Omit to use the shipping method's price.")
    customer_note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("currency", settings.OMS_DEFAULT_CURRENCY)
        return attrs


class PaymentInput(serializers.Serializer):
    amount = money(min_value=Decimal("0.01"))
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(max_length=255, help_text="The payment provider's reference; unique per method.")
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        help_text="Must equal the order's currency.",
        error_messages={"invalid": "Use a three-letter ISO 4217 code in capitals, such as EUR."},
    )


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Why the order is cancelled; kept in the timeline.")


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- output ---------------------------------------------------------------------------------


class CustomerOutput(serializers.Serializer):
    email = serializers.EmailField(source="customer_email")
    name = serializers.CharField(source="customer_name")
    phone = serializers.CharField(source="customer_phone")


class AddressOutput(serializers.ModelSerializer):
    country = CountryField()

    class Meta:
        model = Address
        fields = ["name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone"]


class LineOutput(serializers.ModelSerializer):
    line_total = money(read_only=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total"]


class PaymentOutput(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "method", "amount", "currency", "reference", "status", "received_at"]


class ActorOutput(serializers.Serializer):
    kind = serializers.CharField(source="actor_kind")
    label = serializers.CharField(source="actor_label")  # type: ignore[assignment]


class EventOutput(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=OrderEventKind.choices)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = ActorOutput(source="*")

    class Meta:
        model = OrderEvent
        fields = ["kind", "from_status", "to_status", "note", "data", "actor", "created_at"]


class OrderSummaryOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    customer = CustomerOutput(source="*")
    shipping_method = serializers.CharField(source="shipping_method_id")
    balance_due = money(read_only=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "channel",
            "external_reference",
            "currency",
            "customer",
            "shipping_method",
            "subtotal",
            "shipping_price",
            "total",
            "amount_paid",
            "balance_due",
            "cancel_reason",
            "created_at",
            "updated_at",
            "paid_at",
            "picking_at",
            "packed_at",
            "shipped_at",
            "executed_at",
            "returned_at",
            "cancelled_at",
        ]


class OrderDetailOutput(OrderSummaryOutput):
    shipping_address = AddressOutput()
    billing_address = AddressOutput()
    lines = LineOutput(many=True)
    payments = PaymentOutput(many=True)
    events = EventOutput(many=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="The statuses this order can move to next (the action endpoints that can succeed now)."
    )

    class Meta(OrderSummaryOutput.Meta):
        fields = [
            *OrderSummaryOutput.Meta.fields,
            "customer_note",
            "shipping_address",
            "billing_address",
            "lines",
            "payments",
            "events",
            "allowed_transitions",
        ]

    def get_allowed_transitions(self, order: Order) -> list[str]:
        return sorted(transitions.allowed_from(order.status))


class PaymentOrderOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    balance_due = money(read_only=True)

    class Meta:
        model = Order
        fields = ["number", "status", "total", "amount_paid", "balance_due"]


class PaymentResultOutput(PaymentOutput):
    order = PaymentOrderOutput()

    class Meta(PaymentOutput.Meta):
        fields = [*PaymentOutput.Meta.fields, "order"]
