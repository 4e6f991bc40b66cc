from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django_countries.fields import CountryField

from oms.common.actors import ActorKind
from oms.common.models import TimeStampedModel
from orders.enums import OrderEventKind, OrderStatus, PaymentMethod, PaymentStatus, SalesChannel


def money_field(**kwargs: Any) -> models.DecimalField:
    """Amounts of money: up to 9,999,999,999.99 in the order's currency."""
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class ShippingMethod(models.Model):
    """A way of delivering that customers choose at checkout, with its standard price."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    price = money_field(validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Address(models.Model):
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = CountryField()
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}, {self.postal_code} {self.city}, {self.country}"


class Order(TimeStampedModel):
    number = models.CharField(max_length=32, unique=True, editable=False)
    channel = models.CharField(max_length=20, choices=SalesChannel.choices)
    external_reference = models.CharField(
        max_length=100, blank=True, help_text="The sales channel's own order reference."
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.UNHANDLED, editable=False)
    currency = models.CharField(max_length=3)

    customer_email = models.EmailField(db_index=True)
    customer_name = models.CharField(max_length=200)
    customer_phone = models.CharField(max_length=32, blank=True)
    shipping_address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="+")
    billing_address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="+")

    shipping_method = models.ForeignKey(ShippingMethod, on_delete=models.PROTECT, to_field="code", related_name="+")
    shipping_price = money_field()
    subtotal = money_field()
    total = money_field()
    amount_paid = money_field(default=Decimal("0.00"))
    amount_refunded = money_field(default=Decimal("0.00"))
    customer_note = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    split_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="split_orders",
        help_text="The order whose in-stock lines went on as this order.",
    )

    paid_at = models.DateTimeField(null=True, blank=True)
    picking_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The carrier's promise, computed as of the payment time by shipping (ADR 0006).
    ship_by = models.DateField(null=True, blank=True, help_text="The day the order must be handed to the carrier.")
    promised_delivery = models.DateField(null=True, blank=True)
    # Part of every signed order-status link; raising it revokes the links given out so far.
    status_link_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            # The KPIs count what shipped in a date range.
            models.Index(fields=["shipped_at"], name="order_shipped_at"),
            # Feedback is asked for a few days after delivery.
            models.Index(fields=["executed_at"], name="order_executed_at"),
            # The API's customer_email filter (iexact). The trigram index answers equality only
            # after rechecking every order sharing the address's trigrams (thousands for a
            # short one at a common domain).
            models.Index(Upper("customer_email"), name="order_customer_email_upper"),
            # The API's external_reference filter names no channel: the unique index, which
            # starts with the channel, could only be read end to end.
            models.Index(
                fields=["external_reference"], condition=~Q(external_reference=""), name="order_external_reference"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_reference"],
                condition=~Q(external_reference=""),
                name="order_external_reference_unique_per_channel",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount_paid")),
                name="order_refunds_within_payments",
            ),
        ]
        permissions = [
            ("record_payment", "Can record a payment for an order"),
            ("cancel_order", "Can cancel an order"),
            ("start_picking_order", "Can start picking an order"),
            ("abort_picking_order", "Can abort picking an order"),
            ("pack_order", "Can mark an order packed"),
            ("ship_order", "Can mark an order shipped"),
            ("execute_order", "Can mark an order executed (delivered)"),
            ("return_order", "Can mark an order returned"),
            ("split_order", "Can split off the in-stock lines of an order"),
            ("refund_order", "Can record a refund for an order"),
            ("revoke_status_links", "Can revoke the links to an order's status page"),
            ("edit_order", "Can change an order's address, lines and shipping method before picking"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance_due(self) -> Decimal:
        return max(self.total - self.amount_paid, Decimal("0.00"))


class OrderLine(models.Model):
    """One SKU on an order; name and unit price are snapshots taken when the order was placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    unit_price = money_field()
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["order_id", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Payment(models.Model):
    """Money received for an order. The provider's reference is unique per payment method."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=30, choices=PaymentMethod.choices)
    amount = money_field()
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CAPTURED)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["method", "reference"], name="payment_reference_unique_per_method"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.method} {self.reference}"


class OrderEvent(models.Model):
    """The audit trail: one row per change of an order, saying who did what and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=OrderEventKind.choices)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_client = models.ForeignKey(
        "common.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="order_event_order_created")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.from_status}->{self.to_status}"


class OrderFeedback(models.Model):
    """What the customer thought of the order once it arrived: a rating from 1 to 5 and an
    optional comment, given once on the order-status page."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="order_feedback_rating_1_to_5")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.rating}/5"


class Refund(models.Model):
    """Money given back to the customer (a cancelled order, a return). ``Order.amount_refunded``
    is the sum of an order's refunds; it never exceeds what was paid."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = money_field()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=30, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=255, help_text="The payment provider's or bank's reference.")
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    actor_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["method", "reference"], name="refund_reference_unique_per_method"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} {self.reference}"


class InvoiceSequence(models.Model):
    """The last invoice number given in a year. Locked while an invoice is issued, so numbers
    run without gaps: a transaction that rolls back gives its number back."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Invoice(models.Model):
    """The invoice of a paid order: numbered once, in an unbroken sequence per year, with what
    it bills frozen at issue (a later change of the order does not rewrite an issued invoice).
    The PDF is rendered from these fields, so it reads the same every time."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    number = models.CharField(max_length=32, unique=True)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    subtotal = money_field()
    shipping = money_field()
    total = money_field()
    seller = models.JSONField(help_text="The seller's name, address lines and tax number, as at issue.")
    bill_to = models.JSONField(help_text="Name and address lines billed, as at issue.")
    lines = models.JSONField(help_text="sku, name, quantity, unit_price, line_total per line, as at issue.")

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [models.UniqueConstraint(fields=["year", "sequence"], name="invoice_sequence_unique_per_year")]
        permissions = [("download_invoice", "Can download an order's invoice")]

    def __str__(self) -> str:
        return self.number
