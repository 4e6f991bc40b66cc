from django.db import models


class NotificationKind(models.TextChoices):
    """What a notification tells. Customer emails first, then staff alerts."""

    ORDER_RECEIVED = "order_received", "Order received"
    PAYMENT_CONFIRMED = "payment_confirmed", "Payment confirmed"
    ORDER_UPDATED = "order_updated", "Order changed"
    SHIPPED = "shipped", "Shipped"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    DELAYED = "delayed", "Delayed or delivery problem"
    CANCELLED = "cancelled", "Cancelled"
    RETURN_REQUESTED = "return_requested", "Return requested"
    RETURN_APPROVED = "return_approved", "Return approved"
    RETURN_REJECTED = "return_rejected", "Return rejected"
    RETURN_RECEIVED = "return_received", "Return received"
    REFUND_ISSUED = "refund_issued", "Refund issued"
    FEEDBACK_REQUEST = "feedback_request", "How was your order?"
    STAFF_LOW_STOCK = "staff_low_stock", "Staff alert: low stock"
    STAFF_LABEL_FAILED = "staff_label_failed", "Staff alert: label failed"
    STAFF_LATE_ORDERS = "staff_late_orders", "Staff digest: late orders"


CUSTOMER_KINDS = frozenset(k for k in NotificationKind if not k.startswith("staff_"))
STAFF_KINDS = frozenset(k for k in NotificationKind if k.startswith("staff_"))


class NotificationState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class WebhookEventType(models.TextChoices):
    ORDER_CREATED = "order.created", "Order created"
    ORDER_STATUS_CHANGED = "order.status_changed", "Order status changed"
    PAYMENT_RECEIVED = "payment.received", "Payment received"
    SHIPMENT_TRACKING_UPDATED = "shipment.tracking_updated", "Shipment tracking updated"
    STOCK_LOW = "stock.low", "Stock low"
    RETURN_UPDATED = "return.updated", "Return updated"
    RETURN_REQUESTED = "return.requested", "Return requested"
    RETURN_APPROVED = "return.approved", "Return approved"
    RETURN_REJECTED = "return.rejected", "Return rejected"
    RETURN_CANCELLED = "return.cancelled", "Return cancelled"
    RETURN_RECEIVED = "return.received", "Return received"
    RETURN_REFUNDED = "return.refunded", "Return refunded"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Being delivered"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead letter: retries exhausted"


class NotificationErrorCode(models.TextChoices):
    NOTIFICATION_NOT_FOUND = "notification_not_found"
    TEMPLATE_NOT_FOUND = "template_not_found"
    NOTHING_TO_RESEND = "nothing_to_resend"
    DELIVERY_NOT_FOUND = "delivery_not_found"
    DELIVERY_NOT_DEAD = "delivery_not_dead"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    WEBHOOK_URL_INVALID = "webhook_url_invalid"
