"""Money that does not add up: payments short of or above the total, refunds still due on
cancelled orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import F, OuterRef, Q, Subquery

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from dashboard.services.incidents.watches.base import (
    ACTIVE_ORDER_STATUSES,
    Cause,
    money_text,
    moved_reason,
    sentence,
)
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, Payment

# --- payment mismatch -----------------------------------------------------------------------


def _mismatched() -> Q:
    """Paid short of the total, or paid more than the total and not refunded the difference.
    A goodwill refund on a fully paid order is no mismatch."""
    return Q(amount_paid__gt=0) & (Q(amount_paid__lt=F("total")) | Q(amount_paid__gt=F("total") + F("amount_refunded")))


def _is_mismatched(order: Order) -> bool:
    return order.amount_paid > 0 and (
        order.amount_paid < order.total or order.amount_paid > order.total + order.amount_refunded
    )


def _payment_key(order_id: int, total: Decimal, paid: Decimal) -> str:
    return f"payment_mismatch:{order_id}:{total}:{paid}"


def find_payment_mismatches(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    still_open = [i.order_id for i in open_incidents if i.order_id is not None]
    last_payment = Payment.objects.filter(order=OuterRef("pk")).order_by("-received_at").values("received_at")[:1]
    last_edit = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEventKind.EDITED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    rows = (
        Order.objects.filter(Q(status__in=ACTIVE_ORDER_STATUSES) | Q(pk__in=still_open))
        .exclude(status=OrderStatus.CANCELLED)
        .filter(_mismatched())
        .annotate(last_payment=Subquery(last_payment), last_edit=Subquery(last_edit))
        .order_by()
        .values(
            "pk",
            "number",
            "currency",
            "total",
            "amount_paid",
            "amount_refunded",
            "updated_at",
            "last_payment",
            "last_edit",
        )
    )
    causes = []
    for row in rows:
        total, paid, refunded, currency = row["total"], row["amount_paid"], row["amount_refunded"], row["currency"]
        if paid < total:
            summary = (
                f"Underpaid by {money_text(total - paid, currency)}: {money_text(paid, currency)} received of "
                f"{money_text(total, currency)}. Ask the customer for the rest, or change the order."
            )
        else:
            owed = paid - refunded - total
            summary = (
                f"Overpaid by {money_text(owed, currency)}: {money_text(paid, currency)} received for a total of "
                f"{money_text(total, currency)}. Refund the difference."
            )
        # The mismatch began with the later of the last payment and the last edit of the order.
        began = [t for t in (row["last_payment"], row["last_edit"]) if t is not None]
        causes.append(
            Cause(
                key=_payment_key(row["pk"], total, paid),
                kind=IncidentKind.PAYMENT_MISMATCH,
                order_id=row["pk"],
                summary=sentence(summary),
                detail={
                    "order": row["number"],
                    "total": str(total),
                    "amount_paid": str(paid),
                    "amount_refunded": str(refunded),
                    "currency": currency,
                },
                raised_at=max(began) if began else row["updated_at"],
            )
        )
    return causes


def explain_payment_mismatches(incidents: list[Incident]) -> dict[int, str]:
    why = {}
    for incident in incidents:
        order = incident.order
        if order is None or order.status == OrderStatus.CANCELLED:
            why[incident.pk] = f"Cleared: {moved_reason(order)}."
        elif not _is_mismatched(order):
            why[incident.pk] = f"Cleared: the payments now match the total ({money_text(order.total, order.currency)})."
        else:
            why[incident.pk] = (
                f"Cleared: the amounts changed (total {money_text(order.total, order.currency)}, paid "
                f"{money_text(order.amount_paid, order.currency)}); a new incident shows the difference now."
            )
    return why


# --- refund due -----------------------------------------------------------------------------


def _refund_key(order_id: int, paid: Decimal, refunded: Decimal) -> str:
    return f"refund_due:{order_id}:{paid}:{refunded}"


def find_refunds_due(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    """Cancelled orders (by staff, the customer or expiry) whose payment has not all gone back."""
    last_cancel = (
        OrderEvent.objects.filter(
            order=OuterRef("pk"), kind=OrderEventKind.STATUS_CHANGED, to_status=OrderStatus.CANCELLED
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    rows = (
        Order.objects.filter(status=OrderStatus.CANCELLED, amount_paid__gt=F("amount_refunded"))
        .annotate(cancelled=Subquery(last_cancel))
        .order_by()
        .values("pk", "number", "currency", "amount_paid", "amount_refunded", "cancelled", "updated_at")
    )
    causes = []
    for row in rows:
        paid, refunded, currency = row["amount_paid"], row["amount_refunded"], row["currency"]
        causes.append(
            Cause(
                key=_refund_key(row["pk"], paid, refunded),
                kind=IncidentKind.REFUND_DUE,
                order_id=row["pk"],
                summary=sentence(
                    f"Cancelled with {money_text(paid - refunded, currency)} of the payment not refunded: refund it "
                    "the way the customer paid, and record the refund on the order."
                ),
                detail={"order": row["number"], "amount_paid": str(paid), "amount_refunded": str(refunded),
                        "currency": currency},
                raised_at=row["cancelled"] or row["updated_at"],
            )
        )  # fmt: skip
    return causes


def explain_refunds_due(incidents: list[Incident]) -> dict[int, str]:
    why = {}
    for incident in incidents:
        order = incident.order
        if order is None:
            why[incident.pk] = "Cleared: the order is gone."
        elif order.amount_refunded >= order.amount_paid:
            why[incident.pk] = (
                f"Cleared: {money_text(order.amount_refunded, order.currency)} refunded, all that was paid."
            )
        else:
            why[incident.pk] = (
                f"Cleared: {money_text(order.amount_refunded, order.currency)} refunded so far; a new incident shows "
                "what is still due."
            )
    return why
