"""The order page: everything staff need about one order, read in a fixed number of queries
whatever the number of lines, events, parcels or emails, and the actions this user may take
on it now.

Long lists are bounded (the newest first) and say when more exist, so an order with years of
tracking scans reads as fast as a new one; ``full`` lifts the bounds of the timeline and the
tracking events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q

from dashboard.selectors.returns import order_returns
from fulfillment.enums import AccuracyKind, EntryState, PickListStatus
from fulfillment.models import AccuracyEvent, Package, PickListOrder
from inventory.models import Allocation, Reservation
from notifications.enums import WebhookEventType
from notifications.models import Notification, WebhookDelivery, WebhookEvent
from oms.common.errors import NotFound
from orders import transitions
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Invoice, Order, OrderEvent, OrderLine, Payment, Refund
from orders.services import EDITABLE_STATUSES
from returns.models import Return
from shipping.models import Label, Shipment, ShipmentEvent, TrackingEvent

TIMELINE_LIMIT = 100
TRACKING_LIMIT = 50
NOTIFICATIONS_LIMIT = 20
DELIVERIES_LIMIT = 20

# Pick list entries that still hold the order (it cannot go on another list meanwhile).
_ACTIVE_ENTRY_STATES = (EntryState.QUEUED, EntryState.PICKING, EntryState.PICKED)
_ACTIVE_LIST_STATES = (PickListStatus.ASSIGNED, PickListStatus.PICKING)
_EVENT_KINDS = dict(OrderEventKind.choices)
_STATUSES = dict(OrderStatus.choices)
_ACCURACY_KINDS = dict(AccuracyKind.choices)


@dataclass(frozen=True)
class OrderAction:
    """One thing this user may do to the order now. ``irreversible`` actions go through a
    confirmation step; ``form`` names the fields the action asks for."""

    name: str
    label: str
    url_name: str
    perm: str
    irreversible: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Bin:
    code: str
    quantity: int


@dataclass
class LineRow:
    line: OrderLine
    allocated: int
    picked: int
    bins: list[Bin]

    @property
    def short(self) -> int:
        return self.line.quantity - self.allocated


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str  # "order", "shipment" or "accuracy"
    title: str
    details: list[str]
    who: str


@dataclass
class ParcelRow:
    package: Package
    labels: list[tuple[Label, str]]  # each label with the carrier's tracking link ("" if none)


@dataclass
class OrderPage:
    order: Order
    lines: list[LineRow]
    payments: list[Payment]
    refunds: list[Refund] | None  # None: the user may not see refunds
    invoice: Invoice | None
    split_orders: list[Order]
    pick_entries: list[PickListOrder]
    shipment: Shipment | None
    parcels: list[ParcelRow] | None  # None: the user may not see labels
    tracking: list[TrackingEvent]
    tracking_more: bool
    notifications: list[Notification] | None
    notifications_more: bool
    deliveries: list[WebhookDelivery] | None
    timeline: list[TimelineEntry]
    timeline_more: bool
    actions: list[OrderAction]
    payment_difference: str
    # None: the user may not see returns, or the order was never delivered (only a delivered
    # order can have returns, so the others skip the read).
    returns: list[Return] | None = None
    may_start_return: bool = False  # a delivered order, and the user may ask for returns

    @property
    def short_lines(self) -> list[LineRow]:
        return [row for row in self.lines if row.short > 0]

    @property
    def waiting_for_stock(self) -> bool:
        return bool(self.short_lines) and self.order.status in (OrderStatus.UNHANDLED, OrderStatus.PAID)

    @property
    def action_names(self) -> set[str]:
        return {action.name for action in self.actions}


def _order(number: str) -> Order:
    order = (
        Order.objects.select_related("shipping_address", "billing_address", "shipping_method", "split_from")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
            Prefetch("payments", queryset=Payment.objects.order_by("received_at", "id")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
            Prefetch("split_orders", queryset=Order.objects.only("id", "number", "status", "split_from_id")),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotFound(
            f"There is no order {number}. Check the number, or search for the customer instead.",
            code="order_not_found",
        )
    return order


def _line_rows(order: Order) -> list[LineRow]:
    reservations = {
        r.line_id: r
        for r in Reservation.objects.filter(order_number=order.number).prefetch_related(
            Prefetch(
                "allocations",
                queryset=Allocation.objects.select_related("stock__location").order_by(
                    "stock__location__pick_sequence", "stock__location__code"
                ),
            )
        )
    }
    rows = []
    for line in order.lines.all():
        reservation = reservations.get(line.pk)
        rows.append(
            LineRow(
                line=line,
                allocated=reservation.quantity_allocated if reservation else 0,
                picked=reservation.quantity_picked if reservation else 0,
                bins=[Bin(a.stock.location.code, a.quantity) for a in reservation.allocations.all()]
                if reservation
                else [],
            )
        )
    return rows


def _invoice(order: Order) -> Invoice | None:
    if order.paid_at is None:  # invoices are issued for paid orders only
        return None
    return Invoice.objects.filter(order=order).only("id", "number", "issued_at", "order_id").first()


def _parcels(order: Order, shipment: Shipment | None) -> list[ParcelRow]:
    packages = list(
        Package.objects.filter(order=order)
        .select_related("package_type")
        .prefetch_related(Prefetch("labels", queryset=Label.objects.defer("pdf", "zpl").order_by("id")))
        .order_by("sequence")
    )
    return [
        ParcelRow(
            package=package,
            labels=[
                (
                    label,
                    shipment.carrier.tracking_url(label.tracking_number)
                    if shipment is not None and label.tracking_number
                    else "",
                )
                for label in package.labels.all()
            ],
        )
        for package in packages
    ]


def _deliveries(
    order: Order, events: list[OrderEvent], payments: list[Payment], shipment: Shipment | None
) -> list[Any]:
    """Webhook deliveries about the order. Events are found by their keys, which name their
    cause (an order event, a payment: ``notifications/services/webhooks.py``), through the
    unique index on the key; tracking news by type, time and shipment. No scan of every
    event's JSON."""
    keys = [f"{WebhookEventType.PAYMENT_RECEIVED}:payment:{p.pk}" for p in payments]
    for event in events:
        if event.kind == OrderEventKind.CREATED:
            keys.append(f"{WebhookEventType.ORDER_CREATED}:order-event:{event.pk}")
        elif event.kind == OrderEventKind.STATUS_CHANGED:
            keys.append(f"{WebhookEventType.ORDER_STATUS_CHANGED}:order-event:{event.pk}")
            if event.to_status == OrderStatus.RETURNED:
                keys.append(f"{WebhookEventType.RETURN_UPDATED}:order-event:{event.pk}")
    about = Q(key__in=keys)
    if shipment is not None:
        about |= Q(
            type=WebhookEventType.SHIPMENT_TRACKING_UPDATED,
            occurred_at__gte=shipment.created_at,
            data__shipment=shipment.pk,
        )
    return list(
        WebhookDelivery.objects.select_related("event", "subscription")
        .filter(event__in=WebhookEvent.objects.filter(about).values("pk"))
        .order_by("-created_at", "-id")[:DELIVERIES_LIMIT]
    )


def _order_entry(event: OrderEvent) -> TimelineEntry:
    title = _EVENT_KINDS.get(event.kind, event.kind)
    if event.kind == OrderEventKind.STATUS_CHANGED:
        title = f"{_STATUSES.get(event.from_status, event.from_status or 'new')} → {_STATUSES.get(event.to_status)}"
    details = [str(change) for change in (event.data or {}).get("changes", [])] if event.kind == "edited" else []
    if event.note:
        details.append(event.note)
    return TimelineEntry(at=event.created_at, source="order", title=title, details=details, who=event.actor_label)


def _shipment_entry(event: ShipmentEvent) -> TimelineEntry:
    title = f"Shipment: {event.kind.replace('_', ' ')}"
    if event.to_status:
        title += f" ({event.from_status or 'new'} → {event.to_status})".replace("_", " ")
    return TimelineEntry(
        at=event.created_at,
        source="shipment",
        title=title,
        details=[event.note] if event.note else [],
        who=event.actor_label,
    )


def _accuracy_entry(event: AccuracyEvent) -> TimelineEntry:
    details = []
    if event.sku or event.location:
        details.append(" at ".join(p for p in (event.sku, event.location) if p))
    if event.expected or event.actual:
        details.append(f"expected {event.expected or 'nothing'}, got {event.actual or 'nothing'}")
    if event.note:
        details.append(event.note)
    who = event.actor_label + (f" (approved by {event.supervisor.get_username()})" if event.supervisor else "")
    return TimelineEntry(
        at=event.created_at,
        source="accuracy",
        title=_ACCURACY_KINDS.get(event.kind, event.kind),
        details=details,
        who=who,
    )


def _timeline(
    order: Order, events: list[OrderEvent], shipment: Shipment | None, limit: int | None
) -> tuple[list[TimelineEntry], bool]:
    """The order's events, its shipment's and its accuracy ledger rows, newest first."""
    shipment_events: Any = ShipmentEvent.objects.filter(shipment=shipment).order_by("-created_at", "-id")
    accuracy: Any = (
        AccuracyEvent.objects.select_related("supervisor")
        .filter(order_number=order.number)
        .order_by("-created_at", "-id")
    )
    if limit is not None:
        shipment_events, accuracy = shipment_events[: limit + 1], accuracy[: limit + 1]
    entries = [_order_entry(e) for e in events]
    entries += [_shipment_entry(e) for e in shipment_events] if shipment is not None else []
    entries += [_accuracy_entry(e) for e in accuracy]
    entries.sort(key=lambda e: e.at, reverse=True)
    if limit is not None and len(entries) > limit:
        return entries[:limit], True
    return entries, False


def order_actions(
    user: Any, order: Order, *, lines: list[LineRow], pick_entries: list[PickListOrder]
) -> list[OrderAction]:
    """What ``user`` may do to ``order`` now: the move must be in the lifecycle table (or the
    service's own rule) and the user must hold the action's permission. The views check the
    permission again and the services the status, so a stale page refuses cleanly."""
    status = order.status
    short = any(row.short > 0 for row in lines)
    allocated = any(row.allocated > 0 for row in lines)
    on_list = any(e.state in _ACTIVE_ENTRY_STATES and e.pick_list.status in _ACTIVE_LIST_STATES for e in pick_entries)
    picked = any(row.picked > 0 for row in lines)
    refundable = order.amount_paid - order.amount_refunded
    candidates = [
        (
            status in EDITABLE_STATUSES and not picked,
            OrderAction(
                "edit",
                "Change order",
                "dashboard:order-edit",
                "orders.edit_order",
                hint="Address, items, quantities, shipping method",
            ),
        ),
        (
            status == OrderStatus.PAID and not short and not on_list,
            OrderAction(
                "start_picking",
                "Start picking",
                "dashboard:order-start-picking",
                "orders.start_picking_order",
                hint="A pick list of this order, for you",
            ),
        ),
        (
            status == OrderStatus.PICKING,
            OrderAction(
                "abort_picking",
                "Abort picking",
                "dashboard:order-abort-picking",
                "orders.abort_picking_order",
                hint="Back to paid; picked items stay in the tote",
            ),
        ),
        (
            status not in (OrderStatus.CANCELLED, OrderStatus.RETURNED) and order.balance_due > 0,
            OrderAction("record_payment", "Record payment", "dashboard:order-payment", "orders.record_payment"),
        ),
        (
            status == OrderStatus.PAID and short and allocated,
            OrderAction(
                "split",
                "Split off the items in stock",
                "dashboard:order-split",
                "orders.split_order",
                irreversible=True,
                hint="They go on as a new order now; the rest waits",
            ),
        ),
        (
            refundable > Decimal("0"),
            OrderAction("refund", "Record refund", "dashboard:order-refund", "orders.refund_order", irreversible=True),
        ),
        (
            transitions.can_move(status, OrderStatus.RETURNED),
            OrderAction(
                "mark_returned",
                "Mark returned",
                "dashboard:order-return",
                "orders.return_order",
                irreversible=True,
                hint="The goods came back",
            ),
        ),
        (
            transitions.can_move(status, OrderStatus.CANCELLED),
            OrderAction(
                "cancel",
                "Cancel order",
                "dashboard:order-cancel",
                "orders.cancel_order",
                irreversible=True,
                hint="Frees its stock; the customer is told",
            ),
        ),
        (
            True,
            OrderAction(
                "revoke_links",
                "Revoke status links",
                "dashboard:order-revoke-links",
                "orders.revoke_status_links",
                irreversible=True,
                hint="Links in emails sent so far stop working",
            ),
        ),
    ]
    return [action for allowed, action in candidates if allowed and user.has_perm(action.perm)]


def _payment_difference(order: Order) -> str:
    """For a paid order changed after payment: what it owes or is owed, for staff."""
    if order.status in (OrderStatus.UNHANDLED, OrderStatus.CANCELLED) or order.amount_paid == 0:
        return ""
    held = order.amount_paid - order.amount_refunded
    if order.status == OrderStatus.RETURNED or held == order.total:
        return ""
    if held < order.total:
        return f"{order.total - held} {order.currency} more is due: the total is {order.total}, {held} was paid."
    return f"{held - order.total} {order.currency} was paid above the total of {order.total}: refund the difference."


def order_page(*, number: str, user: Any, full: bool = False) -> OrderPage:
    """Everything the order page shows for ``user`` (sections the user may not see are not
    read). Raises NotFound ``order_not_found``."""
    order = _order(number)
    events = list(order.events.all())
    payments = list(order.payments.all())
    lines = _line_rows(order)
    pick_entries = list(
        PickListOrder.objects.select_related("pick_list").filter(order=order).order_by("-pick_list__created_at", "-id")
    )
    shipment = Shipment.objects.select_related("carrier", "service").filter(order=order).first()

    see_labels = user.has_perm("shipping.view_label")
    tracking: list[TrackingEvent] = []
    tracking_more = False
    if see_labels and shipment is not None:
        query = TrackingEvent.objects.select_related("label").defer("raw").filter(label__shipment=shipment)
        tracking = list(query.order_by("-occurred_at", "-id")[: None if full else TRACKING_LIMIT + 1])
        if not full and len(tracking) > TRACKING_LIMIT:
            tracking, tracking_more = tracking[:TRACKING_LIMIT], True

    notifications = None
    notifications_more = False
    if user.has_perm("notifications.view_notification"):
        notifications = list(
            Notification.objects.filter(order=order)
            .only("id", "kind", "state", "subject", "recipients", "created_at", "sent_at", "failed_at", "last_error")
            .order_by("-created_at", "-id")[: NOTIFICATIONS_LIMIT + 1]
        )
        notifications_more = len(notifications) > NOTIFICATIONS_LIMIT
        notifications = notifications[:NOTIFICATIONS_LIMIT]

    timeline, timeline_more = _timeline(order, events, shipment, None if full else TIMELINE_LIMIT)
    return OrderPage(
        order=order,
        lines=lines,
        payments=payments,
        refunds=list(Refund.objects.filter(order=order).order_by("created_at", "id"))
        if user.has_perm("orders.view_refund")
        else None,
        invoice=_invoice(order) if user.has_perm("orders.download_invoice") else None,
        split_orders=list(order.split_orders.all()),
        pick_entries=pick_entries,
        shipment=shipment,
        parcels=_parcels(order, shipment) if see_labels else None,
        tracking=tracking,
        tracking_more=tracking_more,
        notifications=notifications,
        notifications_more=notifications_more,
        deliveries=_deliveries(order, events, payments, shipment)
        if user.has_perm("notifications.view_webhookdelivery")
        else None,
        timeline=timeline,
        timeline_more=timeline_more,
        actions=order_actions(user, order, lines=lines, pick_entries=pick_entries),
        payment_difference=_payment_difference(order),
        returns=order_returns(order.pk)
        if order.status in (OrderStatus.EXECUTED, OrderStatus.RETURNED) and user.has_perm("returns.view_return")
        else None,
        # The form says what is left to return and whether the window is open.
        may_start_return=order.status == OrderStatus.EXECUTED and user.has_perm("returns.add_return"),
    )


def order_for_edit(*, number: str) -> tuple[Order, list[OrderLine]]:
    """The order and its lines for the edit form. Raises NotFound ``order_not_found``."""
    order = (
        Order.objects.select_related("shipping_address", "shipping_method")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("position")))
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotFound(f"There is no order {number}. Check the number.", code="order_not_found")
    return order, list(order.lines.all())
