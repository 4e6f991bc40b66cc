"""Every write to orders, one use case per function and one transaction each:
``placement`` (placing orders), ``payments``, ``lifecycle`` (the status moves and their one
writer), ``split``, ``refunds``, ``invoices``, ``status_links``, ``editing`` (changes before
picking), ``customer`` (what customers do on their order-status page). Callers import from
here."""

from orders.services.customer import (
    CUSTOMER_ADDRESS_STATUSES,
    CUSTOMER_CANCELLABLE_STATUSES,
    customer_address_refusal,
    customer_cancel_refusal,
    order_cancel_by_customer,
    order_change_address_by_customer,
    refund_due,
)
from orders.services.editing import EDITABLE_STATUSES, order_edit
from orders.services.feedback import (
    FeedbackAlreadyGiven,
    FeedbackNotYet,
    feedback_refusal,
    order_feedback_give,
)
from orders.services.invoices import format_invoice_number, invoice_issue
from orders.services.lifecycle import (
    EXPIRY_REASON,
    OrderShortOfStock,
    TransitionNotAllowed,
    order_abort_picking,
    order_cancel,
    order_mark_executed,
    order_mark_packed,
    order_mark_returned,
    order_mark_shipped,
    order_require_move,
    order_set_promise,
    order_start_picking,
    orders_expire_unpaid,
)
from orders.services.payments import PaymentResult, payment_record
from orders.services.placement import (
    IDEMPOTENCY_SCOPE,
    AddressData,
    CustomerData,
    IdempotencyData,
    LineData,
    OrderCreateResult,
    OrderDraft,
    format_order_number,
    order_create,
)
from orders.services.refunds import RefundResult, refund_record
from orders.services.split import SplitResult, order_split
from orders.services.status_links import order_revoke_status_links

__all__ = [
    "CUSTOMER_ADDRESS_STATUSES",
    "CUSTOMER_CANCELLABLE_STATUSES",
    "EDITABLE_STATUSES",
    "EXPIRY_REASON",
    "IDEMPOTENCY_SCOPE",
    "AddressData",
    "CustomerData",
    "FeedbackAlreadyGiven",
    "FeedbackNotYet",
    "IdempotencyData",
    "LineData",
    "OrderCreateResult",
    "OrderDraft",
    "OrderShortOfStock",
    "PaymentResult",
    "RefundResult",
    "SplitResult",
    "TransitionNotAllowed",
    "customer_address_refusal",
    "customer_cancel_refusal",
    "feedback_refusal",
    "format_invoice_number",
    "format_order_number",
    "invoice_issue",
    "order_abort_picking",
    "order_cancel",
    "order_cancel_by_customer",
    "order_change_address_by_customer",
    "order_create",
    "order_edit",
    "order_feedback_give",
    "order_mark_executed",
    "order_mark_packed",
    "order_mark_returned",
    "order_mark_shipped",
    "order_require_move",
    "order_revoke_status_links",
    "order_set_promise",
    "order_split",
    "order_start_picking",
    "orders_expire_unpaid",
    "payment_record",
    "refund_due",
    "refund_record",
]
