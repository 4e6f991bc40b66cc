"""What each kind of problem is: how the sync finds the current ones, names each by a key,
says it in a sentence, and says why an open one cleared."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from fulfillment.enums import AccuracyKind
from fulfillment.models import AccuracyEvent
from inventory.models import Reservation
from notifications.services.alerts import late_orders
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, Payment
from shipping.enums import LabelStatus, ShipmentStatus, TrackingStatus
from shipping.models import Label, Shipment, ShipmentEvent, TrackingEvent

# Short picks and weight overrides older than this are not brought into the inbox (a first
# sync on an old database would otherwise open years of them); also how long a shipment
# returned to sender is looked for by its status.
LOOKBACK_DAYS = 14

# Orders that can still change hands or money: a payment mismatch is looked for among them
# (the status index), and among the orders of incidents still open, whatever their status.
ACTIVE_ORDER_STATUSES = (
    OrderStatus.UNHANDLED,
    OrderStatus.PAID,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
)

# Carrier news that needs someone to act: call the customer, the carrier, or book a re-send.
TRACKING_PROBLEMS = (
    TrackingStatus.EXCEPTION,
    TrackingStatus.ATTEMPTED_DELIVERY,
    TrackingStatus.DELAYED,
    TrackingStatus.RETURNED_TO_SENDER,
)

SUMMARY_MAX = 255
RESOLUTION_MAX = 255


@dataclass(frozen=True)
class Cause:
    """One problem that exists now, as an incident would record it."""

    key: str
    kind: str
    order_id: int | None
    summary: str
    detail: dict[str, Any]
    raised_at: datetime


@dataclass(frozen=True)
class Watch:
    """How the sync looks at one kind of problem.

    ``find(now, open_incidents)`` returns the problems that exist now; it is given the kind's
    open incidents so that it can look at their subjects again by primary key. ``explain``
    (None: the kind never clears by itself) says, for each open incident whose key ``find``
    no longer returned, why it cleared.
    """

    kind: str
    find: Callable[[datetime, list[Incident]], list[Cause]]
    explain: Callable[[list[Incident]], dict[int, str]] | None


def sentence(text: str, limit: int = SUMMARY_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def _day(value: date) -> str:
    return value.strftime("%a %d %b %Y")


def local_moment(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d %b %Y %H:%M")


def _moved(order: Order | None) -> str:
    """Why an order-bound problem ended, from where the order is now."""
    if order is None:
        return "the order is gone"
    reasons: dict[str, str] = {
        OrderStatus.UNHANDLED: "the order is waiting for payment again",
        OrderStatus.PAID: "the order is paid and waiting to be picked",
        OrderStatus.PICKING: "picking started",
        OrderStatus.PACKED: "the order was packed",
        OrderStatus.SHIPPED: "the order was handed to the carrier",
        OrderStatus.EXECUTED: "the order was delivered",
        OrderStatus.RETURNED: "the order was returned",
        OrderStatus.CANCELLED: "the order was cancelled",
    }
    return reasons.get(order.status, f"the order is {order.status} now")


def _detail_ids(incidents: Iterable[Incident], name: str) -> list[int]:
    return [int(i.detail[name]) for i in incidents if isinstance(i.detail, dict) and i.detail.get(name) is not None]


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


def _find_payment_mismatches(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
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
                f"Underpaid by {_money(total - paid, currency)}: {_money(paid, currency)} received of "
                f"{_money(total, currency)}. Ask the customer for the rest, or change the order."
            )
        else:
            owed = paid - refunded - total
            summary = (
                f"Overpaid by {_money(owed, currency)}: {_money(paid, currency)} received for a total of "
                f"{_money(total, currency)}. Refund the difference."
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


def _explain_payment_mismatches(incidents: list[Incident]) -> dict[int, str]:
    why = {}
    for incident in incidents:
        order = incident.order
        if order is None or order.status == OrderStatus.CANCELLED:
            why[incident.pk] = f"Cleared: {_moved(order)}."
        elif not _is_mismatched(order):
            why[incident.pk] = f"Cleared: the payments now match the total ({_money(order.total, order.currency)})."
        else:
            why[incident.pk] = (
                f"Cleared: the amounts changed (total {_money(order.total, order.currency)}, paid "
                f"{_money(order.amount_paid, order.currency)}); a new incident shows the difference now."
            )
    return why


# --- stock shortage -------------------------------------------------------------------------


def _find_stock_shortages(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    # The partial index reservation_waiting holds exactly the reservations short of stock.
    short = (
        Reservation.objects.filter(
            quantity_allocated__lt=F("quantity"),
            order_number__in=Order.objects.filter(status=OrderStatus.PAID).values("number"),
        )
        .order_by("order_number", "id")
        .values_list("order_number", "product__sku", "quantity", "quantity_allocated")
    )
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, sku, quantity, allocated in short:
        lines[number].append({"sku": sku, "quantity": quantity, "short": quantity - allocated})
    if not lines:
        return []
    # The payment, or the latest return to "paid" from picking (a short pick sent it back):
    # a shortage after such a return is a new one.
    entered_paid = (
        OrderEvent.objects.filter(
            order=OuterRef("pk"),
            kind=OrderEventKind.STATUS_CHANGED,
            from_status=OrderStatus.PICKING,
            to_status=OrderStatus.PAID,
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    orders = (
        Order.objects.filter(number__in=list(lines), status=OrderStatus.PAID)
        .annotate(entered_paid=Subquery(entered_paid))
        .order_by()
        .values("pk", "number", "paid_at", "entered_paid")
    )
    causes = []
    for order in orders:
        began: datetime = order["entered_paid"] or order["paid_at"] or now
        missing = lines[order["number"]]
        summary = "Waiting for stock: " + ", ".join(
            f"{m['sku']} {m['short']} of {m['quantity']} missing" for m in missing
        )
        causes.append(
            Cause(
                key=f"stock_shortage:{order['pk']}:{began:%Y%m%dT%H%M%S.%f}",
                kind=IncidentKind.STOCK_SHORTAGE,
                order_id=order["pk"],
                summary=sentence(summary + ". Receive the stock, or split off the lines in stock."),
                detail={"order": order["number"], "lines": missing},
                raised_at=began,
            )
        )
    return causes


def _explain_stock_shortages(incidents: list[Incident]) -> dict[int, str]:
    return {
        i.pk: (
            "Cleared: every line has its stock now."
            if i.order is not None and i.order.status == OrderStatus.PAID
            else f"Cleared: {_moved(i.order)}."
        )
        for i in incidents
    }


# --- short picks and weight overrides (the accuracy ledger) ---------------------------------


def _find_accuracy(kind: str) -> Callable[[datetime, list[Incident]], list[Cause]]:
    def find(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
        # Only events without an incident yet: the unique key index answers each in one probe.
        known = Incident.objects.filter(key=Concat(Value(f"{kind}:"), Cast(OuterRef("pk"), CharField())))
        events = (
            AccuracyEvent.objects.filter(kind=kind, created_at__gte=now - timedelta(days=LOOKBACK_DAYS))
            .annotate(
                order_pk=Subquery(Order.objects.filter(number=OuterRef("order_number")).values("pk")[:1]),
                known=Exists(known),
            )
            .filter(known=False)
            .order_by("pk")
            .values(
                "pk",
                "order_number",
                "order_pk",
                "sku",
                "location",
                "expected",
                "actual",
                "note",
                "actor_label",
                "supervisor__username",
                "created_at",
                "package_id",
            )
        )
        return [_accuracy_cause(kind, event) for event in events]

    return find


def _accuracy_cause(kind: str, event: Mapping[str, Any]) -> Cause:
    if kind == AccuracyKind.SHORT_PICK:
        summary = (
            f"Short pick of {event['sku']} in bin {event['location']}: {event['actual']} found of "
            f"{event['expected']} expected, by {event['actor_label']}. Check the bin and the order's stock."
        )
    else:
        approved = event["supervisor__username"] or "a supervisor"
        summary = (
            f"Package weighed {event['actual']} against {event['expected']}, sent on as approved by "
            f"{approved}: {event['note'] or 'no reason given'}."
        )
    return Cause(
        key=f"{kind}:{event['pk']}",
        kind=kind,
        order_id=event["order_pk"],
        summary=sentence(summary),
        detail={
            "order": event["order_number"],
            "event": event["pk"],
            "sku": event["sku"],
            "location": event["location"],
            "expected": event["expected"],
            "actual": event["actual"],
            "note": event["note"],
            "by": event["actor_label"],
            "supervisor": event["supervisor__username"] or "",
            "package": event["package_id"],
        },
        raised_at=event["created_at"],
    )


# --- label failures -------------------------------------------------------------------------


def _find_label_failures(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    labels = list(
        Label.objects.filter(status=LabelStatus.FAILED)
        .order_by("pk")
        .values(
            "pk",
            "shipment_id",
            "shipment__order_id",
            "shipment__order__number",
            "shipment__carrier__code",
            "package__sequence",
            "attempts",
            "last_error",
        )
    )
    if not labels:
        return []
    # Each failure is recorded as a shipment event; a label that fails again after a retry has
    # a newer one, and so a new key.
    failures: dict[int, Mapping[str, Any]] = {}
    for event in (
        ShipmentEvent.objects.filter(kind="label_failed", shipment_id__in={row["shipment_id"] for row in labels})
        .order_by("pk")
        .values("pk", "data", "created_at")
    ):
        label_id = event["data"].get("label") if isinstance(event["data"], dict) else None
        if label_id is not None:
            failures[int(label_id)] = event  # ordered by pk: the latest wins
    causes = []
    for row in labels:
        failure = failures.get(row["pk"])
        error = row["last_error"] or "no reason given"
        causes.append(
            Cause(
                key=(
                    f"label_failed:{row['pk']}:{failure['pk']}"
                    if failure
                    else f"label_failed:{row['pk']}:attempt{row['attempts']}"
                ),
                kind=IncidentKind.LABEL_FAILED,
                order_id=row["shipment__order_id"],
                summary=sentence(
                    f"{row['shipment__carrier__code']} refused the label of package {row['package__sequence']}: "
                    f"{error}. Fix what it says, then retry."
                ),
                detail={
                    "order": row["shipment__order__number"],
                    "label": row["pk"],
                    "failure": failure["pk"] if failure else None,
                    "shipment": row["shipment_id"],
                    "package": row["package__sequence"],
                    "carrier": row["shipment__carrier__code"],
                    "attempts": row["attempts"],
                    "error": row["last_error"],
                },
                raised_at=failure["created_at"] if failure else now,
            )
        )
    return causes


def _explain_label_failures(incidents: list[Incident]) -> dict[int, str]:
    status = dict(Label.objects.filter(pk__in=_detail_ids(incidents, "label")).values_list("pk", "status"))
    reasons: dict[str | None, str] = {
        LabelStatus.LIVE: "Cleared: the label was made on a retry.",
        LabelStatus.REQUESTED: "Cleared: the label is being made again.",
        LabelStatus.VOIDED: "Cleared: the label was voided.",
        LabelStatus.FAILED: "Cleared: it failed again; a new incident shows the latest error.",
    }
    return {i.pk: reasons.get(status.get(i.detail.get("label")), "Cleared: the label is gone.") for i in incidents}


# --- tracking exceptions --------------------------------------------------------------------


def _find_tracking_exceptions(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    shipments = list(
        Shipment.objects.filter(
            Q(status__in=[ShipmentStatus.LABELLED, ShipmentStatus.HANDED_OVER], tracking_status__in=TRACKING_PROBLEMS)
            | Q(
                status=ShipmentStatus.RETURNED,
                tracking_status=TrackingStatus.RETURNED_TO_SENDER,
                last_event_at__gte=now - timedelta(days=LOOKBACK_DAYS),
            )
            | Q(pk__in=_detail_ids(open_incidents, "shipment"), tracking_status__in=TRACKING_PROBLEMS)
        )
        .order_by("pk")
        .values("pk", "order_id", "order__number", "carrier__code", "tracking_status", "last_event_at")
    )
    if not shipments:
        return []
    events: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for event in (
        TrackingEvent.objects.filter(
            label__shipment_id__in=[s["pk"] for s in shipments], label__status=LabelStatus.LIVE
        )
        .order_by("occurred_at", "pk")
        .values("label__shipment_id", "label__tracking_number", "status", "description", "location", "occurred_at")
    ):
        events[event["label__shipment_id"]].append(event)
    causes = []
    for shipment in shipments:
        status = shipment["tracking_status"]
        # The problem began with the first event of the latest unbroken run of this status:
        # more "delayed" news is the same problem; "delayed" after "in transit" is a new one.
        run = []
        for event in reversed(events[shipment["pk"]]):
            if event["status"] != status:
                break
            run.append(event)
        began = run[-1]["occurred_at"] if run else (shipment["last_event_at"] or now)
        latest = run[0] if run else None
        said = ""
        if latest is not None:
            said = ", ".join(p for p in (latest["description"], latest["location"]) if p)
        label = TrackingStatus(status).label
        causes.append(
            Cause(
                key=f"tracking_exception:{shipment['pk']}:{status}:{began.isoformat()}",
                kind=IncidentKind.TRACKING_EXCEPTION,
                order_id=shipment["order_id"],
                summary=sentence(
                    f"{label}, says {shipment['carrier__code']}"
                    + (f": {said}" if said else "")
                    + ". Contact the customer or the carrier."
                ),
                detail={
                    "order": shipment["order__number"],
                    "shipment": shipment["pk"],
                    "carrier": shipment["carrier__code"],
                    "tracking_status": status,
                    "tracking_number": latest["label__tracking_number"] if latest else "",
                    "description": latest["description"] if latest else "",
                    "location": latest["location"] if latest else "",
                },
                raised_at=began,
            )
        )
    return causes


def _explain_tracking_exceptions(incidents: list[Incident]) -> dict[int, str]:
    now_says = dict(
        Shipment.objects.filter(pk__in=_detail_ids(incidents, "shipment")).values_list("pk", "tracking_status")
    )
    why = {}
    for incident in incidents:
        status = now_says.get(incident.detail.get("shipment"))
        if status and status != incident.detail.get("tracking_status"):
            why[incident.pk] = f"Cleared: tracking now says {TrackingStatus(status).label.lower()}."
        elif status:
            why[incident.pk] = "Cleared: the parcel moved on since; a new incident shows the latest problem."
        else:
            why[incident.pk] = "Cleared: the shipment has no tracking problem any more."
    return why


# --- stale shipments ------------------------------------------------------------------------


def _find_stale_shipments(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    rows = (
        Shipment.objects.filter(status=ShipmentStatus.HANDED_OVER, stale_since__isnull=False)
        .order_by("pk")
        .values("pk", "order_id", "order__number", "carrier__code", "stale_since", "last_event_at", "handed_over_at")
    )
    causes = []
    for row in rows:
        stale_since: datetime = row["stale_since"]  # type: ignore[assignment]  # filtered on not null
        quiet_since = row["last_event_at"] or row["handed_over_at"] or stale_since
        causes.append(
            Cause(
                key=f"stale_shipment:{row['pk']}:{stale_since.isoformat()}",
                kind=IncidentKind.STALE_SHIPMENT,
                order_id=row["order_id"],
                summary=sentence(
                    f"No tracking news from {row['carrier__code']} since {local_moment(quiet_since)}. "
                    "Ask the carrier where the parcel is."
                ),
                detail={
                    "order": row["order__number"],
                    "shipment": row["pk"],
                    "carrier": row["carrier__code"],
                    "quiet_since": quiet_since.isoformat(),
                },
                raised_at=stale_since,
            )
        )
    return causes


def _explain_stale_shipments(incidents: list[Incident]) -> dict[int, str]:
    rows = {
        row["pk"]: row
        for row in Shipment.objects.filter(pk__in=_detail_ids(incidents, "shipment")).values(
            "pk", "status", "stale_since", "tracking_status"
        )
    }
    why = {}
    for incident in incidents:
        row = rows.get(incident.detail.get("shipment"))
        if row is None:
            why[incident.pk] = "Cleared: the shipment is gone."
        elif row["stale_since"] is None:
            news = TrackingStatus(row["tracking_status"]).label.lower() if row["tracking_status"] else "news"
            why[incident.pk] = f"Cleared: tracking resumed ({news})."
        elif row["status"] != ShipmentStatus.HANDED_OVER:
            why[incident.pk] = f"Cleared: the shipment is {ShipmentStatus(row['status']).label.lower()}."
        else:
            why[incident.pk] = "Cleared: flagged again; a new incident counts from the new flag."
    return why


# --- late orders ----------------------------------------------------------------------------


def _late_key(order_id: int, due: str, day: date) -> str:
    return f"late_order:{order_id}:{due}:{day.isoformat()}"


def _find_late_orders(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    today = timezone.localdate(now)
    causes = []
    # The same rule as the managers' daily digest of late orders.
    for row in late_orders(today).values("pk", "number", "status", "ship_by", "promised_delivery"):
        shipped = row["status"] == OrderStatus.SHIPPED
        day: date = row["promised_delivery"] if shipped else row["ship_by"]  # type: ignore[assignment]  # late_orders() compares it
        if shipped:
            summary = f"Not delivered by the day promised to the customer, {_day(day)}. Ask the carrier."
        else:
            status = OrderStatus(row["status"]).label.lower()
            summary = f"Not handed to the carrier by its ship-by day, {_day(day)}; it is {status}. Ship it first."
        causes.append(
            Cause(
                key=_late_key(row["pk"], "delivery" if shipped else "ship_by", day),
                kind=IncidentKind.LATE_ORDER,
                order_id=row["pk"],
                summary=sentence(summary),
                detail={"order": row["number"], "due": "delivery" if shipped else "ship_by", "day": day.isoformat()},
                # Late from the first moment of the day after the one it missed (shop time).
                raised_at=timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)),
            )
        )
    return causes


def _explain_late_orders(incidents: list[Incident]) -> dict[int, str]:
    why = {}
    for incident in incidents:
        order = incident.order
        due = incident.detail.get("due")
        if order is None:
            why[incident.pk] = "Cleared: the order is gone."
        elif due == "ship_by" and order.status in (OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED):
            why[incident.pk] = (
                f"Cleared: the ship-by day is now {_day(order.ship_by)}."
                if order.ship_by
                else ("Cleared: the order has no ship-by day any more.")
            )
        elif due == "delivery" and order.status == OrderStatus.SHIPPED:
            why[incident.pk] = (
                f"Cleared: the promised day is now {_day(order.promised_delivery)}."
                if order.promised_delivery
                else "Cleared: the order has no promised day any more."
            )
        else:
            why[incident.pk] = f"Cleared: {_moved(order)}."
    return why


# --- refund due -----------------------------------------------------------------------------


def _refund_key(order_id: int, paid: Decimal, refunded: Decimal) -> str:
    return f"refund_due:{order_id}:{paid}:{refunded}"


def _find_refunds_due(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
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
                    f"Cancelled with {_money(paid - refunded, currency)} of the payment not refunded: refund it "
                    "the way the customer paid, and record the refund on the order."
                ),
                detail={"order": row["number"], "amount_paid": str(paid), "amount_refunded": str(refunded),
                        "currency": currency},
                raised_at=row["cancelled"] or row["updated_at"],
            )
        )  # fmt: skip
    return causes


def _explain_refunds_due(incidents: list[Incident]) -> dict[int, str]:
    why = {}
    for incident in incidents:
        order = incident.order
        if order is None:
            why[incident.pk] = "Cleared: the order is gone."
        elif order.amount_refunded >= order.amount_paid:
            why[incident.pk] = f"Cleared: {_money(order.amount_refunded, order.currency)} refunded, all that was paid."
        else:
            why[incident.pk] = (
                f"Cleared: {_money(order.amount_refunded, order.currency)} refunded so far; a new incident shows "
                "what is still due."
            )
    return why


WATCHES: tuple[Watch, ...] = (
    Watch(IncidentKind.PAYMENT_MISMATCH, _find_payment_mismatches, _explain_payment_mismatches),
    Watch(IncidentKind.STOCK_SHORTAGE, _find_stock_shortages, _explain_stock_shortages),
    Watch(IncidentKind.SHORT_PICK, _find_accuracy(AccuracyKind.SHORT_PICK), None),
    Watch(IncidentKind.WEIGHT_OVERRIDE, _find_accuracy(AccuracyKind.WEIGHT_OVERRIDE), None),
    Watch(IncidentKind.LABEL_FAILED, _find_label_failures, _explain_label_failures),
    Watch(IncidentKind.TRACKING_EXCEPTION, _find_tracking_exceptions, _explain_tracking_exceptions),
    Watch(IncidentKind.STALE_SHIPMENT, _find_stale_shipments, _explain_stale_shipments),
    Watch(IncidentKind.LATE_ORDER, _find_late_orders, _explain_late_orders),
    Watch(IncidentKind.REFUND_DUE, _find_refunds_due, _explain_refunds_due),
)
