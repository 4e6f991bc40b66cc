from django.db import models


class OrderStatus(models.TextChoices):
    UNHANDLED = "unhandled", "Unhandled"
    PAID = "paid", "Paid"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    EXECUTED = "executed", "Executed"
    RETURNED = "returned", "Returned"
    CANCELLED = "cancelled", "Cancelled"


class SalesChannel(models.TextChoices):
    WEB = "web", "Web shop"
    MARKETPLACE = "marketplace", "Marketplace"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    STAFF = "staff", "Staff"
    API = "api", "API"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    PAYPAL = "paypal", "PayPal"
    CASH_ON_DELIVERY = "cash_on_delivery", "Cash on delivery"
    CASH = "cash", "Cash"
    MARKETPLACE = "marketplace", "Marketplace payout"
    OTHER = "other", "Other"


class PaymentStatus(models.TextChoices):
    CAPTURED = "captured", "Captured"


class OrderEventKind(models.TextChoices):
    CREATED = "created", "Order created"
    STATUS_CHANGED = "status_changed", "Status changed"
    PAYMENT_RECORDED = "payment_recorded", "Payment recorded"
    SPLIT = "split", "Order split"
    PROMISED = "promised", "Delivery promised"
    REFUND_RECORDED = "refund_recorded", "Refund recorded"
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    STATUS_LINKS_REVOKED = "status_links_revoked", "Status links revoked"
    EDITED = "edited", "Order edited"
    # A paid order was cancelled and the money is still to go back: staff record the refund.
    REFUND_DUE = "refund_due", "Refund due"
    FEEDBACK_GIVEN = "feedback_given", "Customer rated the order"


class OrderErrorCode(models.TextChoices):
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    ORDER_NOT_PAYABLE = "order_not_payable"
    PAYMENT_REFERENCE_IN_USE = "payment_reference_in_use"
    CURRENCY_MISMATCH = "currency_mismatch"
    DUPLICATE_EXTERNAL_REFERENCE = "duplicate_external_reference"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_SHIPPING_METHOD = "unknown_shipping_method"
    ORDER_SHORT_OF_STOCK = "order_short_of_stock"
    NOTHING_TO_SPLIT = "nothing_to_split"
    REFUND_EXCEEDS_PAYMENTS = "refund_exceeds_payments"
    REFUND_REFERENCE_IN_USE = "refund_reference_in_use"
    ORDER_NOT_INVOICEABLE = "order_not_invoiceable"
    INVOICE_NOT_ISSUED = "invoice_not_issued"
    ORDER_NOT_EDITABLE = "order_not_editable"
    ORDER_UNCHANGED = "order_unchanged"
    ORDER_NOT_CANCELLABLE = "order_not_cancellable"
    ADDRESS_NOT_CHANGEABLE = "address_not_changeable"
    COUNTRY_NOT_CHANGEABLE = "country_not_changeable"
    FEEDBACK_NOT_YET = "feedback_not_yet"
    FEEDBACK_ALREADY_GIVEN = "feedback_already_given"


class CustomerCancelReason(models.TextChoices):
    """Why a customer cancelled on the order-status page, in their words."""

    ORDERED_BY_MISTAKE = "ordered_by_mistake", "Ordered by mistake"
    FOUND_CHEAPER = "found_cheaper", "Found it cheaper"
    TAKES_TOO_LONG = "takes_too_long", "Takes too long"
    OTHER = "other", "Other"
