"""Every write to orders, one use case per function and one transaction each:
``placement`` (placing orders), ``payments``, ``lifecycle`` (the status moves and their one
writer), ``split``, ``refunds``, ``invoices``, ``status_links``, ``editing`` (changes before
picking). Callers import from here."""

from orders.services.editing import EDITABLE_STATUSES, order_edit
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
    "EDITABLE_STATUSES",
    "EXPIRY_REASON",
    "IDEMPOTENCY_SCOPE",
    "AddressData",
    "CustomerData",
    "IdempotencyData",
    "LineData",
    "OrderCreateResult",
    "OrderDraft",
    "OrderShortOfStock",
    "PaymentResult",
    "RefundResult",
    "SplitResult",
    "TransitionNotAllowed",
    "format_invoice_number",
    "format_order_number",
    "invoice_issue",
    "order_abort_picking",
    "order_cancel",
    "order_create",
    "order_edit",
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
    "refund_record",
]
