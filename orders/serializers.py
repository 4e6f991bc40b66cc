"""Input and output shapes of the orders API. Input and output are separate classes and
carry no business rules: those live in services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django_countries import countries
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import ReturnDict

from oms.common.actors import ActorKind
from orders import transitions
from orders.enums import OrderEventKind, OrderStatus, PaymentMethod, PaymentStatus, SalesChannel
from orders.models import Order

PHONE_RE = r"^\+?[0-9][0-9 ()\-.]{2,30}$"
PHONE_ERRORS: dict[str, Any] = {
    "invalid": "Enter a phone number of digits, optionally starting with +, such as +48600100200."
}


def money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# --- input ----------------------------------------------------------------------------------


COUNTRY_CODES = frozenset(code for code, _name in countries)


class CountryCodeField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code, checked against a set built once (a ChoiceField would
    rebuild its 249 choices for every address of every request)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 code, such as PL or DE.")
        super().__init__(max_length=2, min_length=2, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).upper()
        if code not in COUNTRY_CODES:
            raise serializers.ValidationError(
                f"{code!r} is not an ISO 3166-1 alpha-2 country code; use one such as PL, DE or GB."
            )
        return code


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
    country = CountryCodeField()
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
    allow_backorder = serializers.BooleanField(
        required=False,
        help_text="When stock is short: false refuses the order (409 insufficient_stock), true accepts it and "
        "the short units wait for stock. Omitted: the shop's setting (OMS_ALLOW_BACKORDER).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("currency", settings.OMS_DEFAULT_CURRENCY)
        return attrs


# One instance for the process (see _ORDER_DETAIL_OUTPUT below): ``run_validation`` reads the
# bound fields and keeps nothing between calls.
_ORDER_CREATE_INPUT = OrderCreateInput()


def order_create_input(data: Any) -> dict[str, Any]:
    """The validated data of ``OrderCreateInput(data=data)``, without building the serializer
    anew. Raises ValidationError with the same details as ``is_valid(raise_exception=True)``."""
    validated: dict[str, Any] = _ORDER_CREATE_INPUT.run_validation(data)
    return validated


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
# Declared field by field rather than as ModelSerializers: DRF rebuilds a ModelSerializer's
# fields from the model on every instantiation, which costs more than the query behind it.


class CustomerOutput(serializers.Serializer):
    email = serializers.EmailField(source="customer_email")
    name = serializers.CharField(source="customer_name")
    phone = serializers.CharField(source="customer_phone")


class AddressOutput(serializers.Serializer):
    name = serializers.CharField()
    company = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    phone = serializers.CharField()


class LineOutput(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = money(read_only=True)
    quantity = serializers.IntegerField()
    line_total = money(read_only=True)
    quantity_allocated = serializers.IntegerField(help_text="Units held in stock for this line.")
    quantity_short = serializers.SerializerMethodField(help_text="Units still waiting for stock (backorder).")

    def get_quantity_short(self, line: Any) -> int:
        return int(line.quantity - line.quantity_allocated)


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = money(read_only=True)
    currency = serializers.CharField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    received_at = serializers.DateTimeField()


class ActorOutput(serializers.Serializer):
    kind = serializers.ChoiceField(source="actor_kind", choices=ActorKind.choices)
    label = serializers.CharField(source="actor_label")  # type: ignore[assignment]


class EventOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OrderEventKind.choices)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]  # the metaclass turns it into a field
    actor = ActorOutput(source="*")
    created_at = serializers.DateTimeField()


class OrderSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    channel = serializers.ChoiceField(choices=SalesChannel.choices)
    external_reference = serializers.CharField()
    currency = serializers.CharField()
    customer = CustomerOutput(source="*")
    shipping_method = serializers.CharField(source="shipping_method_id")
    subtotal = money(read_only=True)
    shipping_price = money(read_only=True)
    total = money(read_only=True)
    amount_paid = money(read_only=True)
    balance_due = money(read_only=True)
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    picking_at = serializers.DateTimeField(allow_null=True)
    packed_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    executed_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    ship_by = serializers.DateField(
        allow_null=True, help_text="The day the order must be handed to the carrier; set soon after payment."
    )
    promised_delivery = serializers.DateField(allow_null=True, help_text="The delivery day promised to the customer.")


class OrderDetailOutput(OrderSummaryOutput):
    customer_note = serializers.CharField()
    shipping_address = AddressOutput()
    billing_address = AddressOutput()
    lines = LineOutput(many=True)
    payments = PaymentOutput(many=True)
    events = EventOutput(many=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="The statuses this order can move to next (the action endpoints that can succeed now)."
    )

    split_from = serializers.CharField(
        source="split_from.number", allow_null=True, help_text="The order this one was split off from."
    )
    split_orders = serializers.SerializerMethodField(help_text="Orders split off from this one (their numbers).")
    fully_allocated = serializers.SerializerMethodField(
        help_text="Every unit of every line is held in stock; picking can start only then."
    )

    def get_split_orders(self, order: Order) -> list[str]:
        return [o.number for o in order.split_orders.all()]

    def get_fully_allocated(self, order: Order) -> bool:
        return all(line.quantity_allocated >= line.quantity for line in order.lines.all())  # type: ignore[attr-defined]

    def get_allowed_transitions(self, order: Order) -> list[str]:
        return sorted(transitions.allowed_from(order.status))


# One instance for the process: DRF copies a serializer's declared fields (about a hundred
# here, nested ones included) for every new instance, which costs more than the
# representation itself. ``to_representation`` only reads the bound fields (no context, no
# state kept between calls), so threads can share it.
_ORDER_DETAIL_OUTPUT = OrderDetailOutput()


def order_detail_data(order: Order) -> ReturnDict:
    """``OrderDetailOutput(order).data``, without building the serializer anew."""
    return ReturnDict(_ORDER_DETAIL_OUTPUT.to_representation(order), serializer=_ORDER_DETAIL_OUTPUT)


class PaymentOrderOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    total = money(read_only=True)
    amount_paid = money(read_only=True)
    balance_due = money(read_only=True)


class PaymentResultOutput(PaymentOutput):
    order = PaymentOrderOutput()
