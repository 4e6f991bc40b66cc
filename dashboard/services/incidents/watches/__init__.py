"""What each kind of problem is: how the sync finds the current ones, names each by a key,
says it in a sentence, and says why an open one cleared. One module per area; ``WATCHES``
lists them for the sync."""

from __future__ import annotations

from dashboard.enums import IncidentKind
from dashboard.services.incidents.watches.base import (
    LOOKBACK_DAYS,
    RESOLUTION_MAX,
    SUMMARY_MAX,
    Cause,
    Watch,
    local_moment,
    sentence,
)
from dashboard.services.incidents.watches.late import explain_late_orders, find_late_orders
from dashboard.services.incidents.watches.money import (
    explain_payment_mismatches,
    explain_refunds_due,
    find_payment_mismatches,
    find_refunds_due,
)
from dashboard.services.incidents.watches.shipping import (
    explain_label_failures,
    explain_stale_shipments,
    explain_tracking_exceptions,
    find_label_failures,
    find_stale_shipments,
    find_tracking_exceptions,
)
from dashboard.services.incidents.watches.stock import explain_stock_shortages, find_accuracy, find_stock_shortages
from fulfillment.enums import AccuracyKind

WATCHES: tuple[Watch, ...] = (
    Watch(IncidentKind.PAYMENT_MISMATCH, find_payment_mismatches, explain_payment_mismatches),
    Watch(IncidentKind.STOCK_SHORTAGE, find_stock_shortages, explain_stock_shortages),
    Watch(IncidentKind.SHORT_PICK, find_accuracy(AccuracyKind.SHORT_PICK), None),
    Watch(IncidentKind.WEIGHT_OVERRIDE, find_accuracy(AccuracyKind.WEIGHT_OVERRIDE), None),
    Watch(IncidentKind.LABEL_FAILED, find_label_failures, explain_label_failures),
    Watch(IncidentKind.TRACKING_EXCEPTION, find_tracking_exceptions, explain_tracking_exceptions),
    Watch(IncidentKind.STALE_SHIPMENT, find_stale_shipments, explain_stale_shipments),
    Watch(IncidentKind.LATE_ORDER, find_late_orders, explain_late_orders),
    Watch(IncidentKind.REFUND_DUE, find_refunds_due, explain_refunds_due),
)

__all__ = ["LOOKBACK_DAYS", "RESOLUTION_MAX", "SUMMARY_MAX", "WATCHES", "Cause", "Watch", "local_moment", "sentence"]
