"""The customer's order-status page, opened from the signed link in every email
(``notifications/status_links.py``), and the invoice behind it.

The link is all a visitor has, and customers forward it: the page shows where the order
stands, what is in it and where it goes only down to the town (the first letter of the
street, no name, email or phone). A forged, altered or revoked link answers the same 404 page
whatever the token, so a link reveals nothing about other orders. Every answer tells search
engines and caches to keep it (``noindex``, ``private, no-store``), and browsers not to pass
the link on to the carrier's tracking site or any other (``same-origin``: not
``no-referrer``, under which browsers send ``Origin: null`` with the page's own form posts and
Django's CSRF check refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django_countries import countries

from notifications.customer_forms import AddressForm, CancelForm, FeedbackForm
from notifications.customer_return_status import order_returns, return_refusal, return_window_sentence
from notifications.email_context import return_address
from notifications.formatting import day, money
from notifications.status_links import order_for_lookup, order_for_token, status_link_path
from oms.common.throttling import attempt_allowed
from orders.enums import OrderStatus
from orders.invoice_pdf import invoice_filename, invoice_pdf
from orders.models import Address, Invoice, Order, OrderFeedback, OrderLine
from orders.services import customer_address_refusal, customer_cancel_refusal, refund_due
from orders.services.feedback import RATEABLE
from shipping.enums import LabelStatus, TrackingStatus
from shipping.models import Label, Shipment, TrackingEvent

S = OrderStatus

# Where the order stands, as the customer reads it: a heading and a sentence.
HEADLINES: dict[str, tuple[str, str]] = {
    S.UNHANDLED: ("Waiting for payment", "We have your order and start on it as soon as your payment arrives."),
    S.PAID: ("Payment received", "Thank you: your order is paid and waits for our warehouse."),
    S.PICKING: ("Being prepared", "Our warehouse is putting your order together."),
    S.PACKED: ("Being prepared", "Your order is packed and waits for the courier."),
    S.SHIPPED: ("On its way", "Your order has left our warehouse."),
    S.EXECUTED: ("Delivered", "Your order has been delivered. Enjoy!"),
    S.RETURNED: ("Returned", "Your order came back to us."),
    S.CANCELLED: ("Cancelled", "This order was cancelled."),
}

# The carrier's tracking statuses in the customer's words.
TRACKING_WORDS: dict[str, str] = {
    TrackingStatus.LABEL_CREATED: "Waiting for the courier",
    TrackingStatus.IN_TRANSIT: "In transit",
    TrackingStatus.OUT_FOR_DELIVERY: "Out for delivery today",
    TrackingStatus.AVAILABLE_FOR_PICKUP: "Ready to pick up",
    TrackingStatus.ATTEMPTED_DELIVERY: "Delivery attempted: the courier will try again or leave a note",
    TrackingStatus.DELAYED: "Delayed",
    TrackingStatus.EXCEPTION: "A problem with the delivery: the courier is on it",
    TrackingStatus.RETURNED_TO_SENDER: "On its way back to us",
    TrackingStatus.DELIVERED: "Delivered",
}

# The steps of an order going well; how far it got is its status's rank.
_STEPS = (
    ("Order received", "created_at"),
    ("Paid", "paid_at"),
    ("Being prepared", "picking_at"),
    ("Shipped", "shipped_at"),
    ("Delivered", "executed_at"),
)
_RANK: dict[str, int] = {S.UNHANDLED: 0, S.PAID: 1, S.PICKING: 2, S.PACKED: 2, S.SHIPPED: 3, S.EXECUTED: 4}
# Statuses whose parcels (tracking numbers, the latest scan) are shown.
_SHIPPED = frozenset({S.SHIPPED, S.EXECUTED, S.RETURNED})


@dataclass(frozen=True)
class Step:
    label: str
    when: datetime | None
    done: bool
    current: bool


@dataclass(frozen=True)
class Parcel:
    tracking_number: str
    url: str
    status: str


@dataclass(frozen=True)
class LatestScan:
    status: str
    description: str
    location: str
    occurred_at: datetime


def status_timeline(order: Order) -> list[Step]:
    """The order's way in the customer's words: received, paid, being prepared (picking,
    packed), shipped, delivered; a cancelled or returned order ends there instead."""
    if order.status == S.CANCELLED:
        reached, end = (1 if order.paid_at else 0), ("Cancelled", order.cancelled_at)
    elif order.status == S.RETURNED:
        reached, end = (4 if order.executed_at else 3), ("Returned", order.returned_at)
    else:
        reached, end = _RANK[order.status], None
    shown = _STEPS if end is None else _STEPS[: reached + 1]
    steps = [
        Step(label=label, when=getattr(order, field), done=i <= reached, current=end is None and i == reached)
        for i, (label, field) in enumerate(shown)
    ]
    if end is not None:
        steps.append(Step(label=end[0], when=end[1], done=True, current=True))
    return steps


def masked_address(address: Address) -> str:
    """Where the order goes, down to the town: "M… 00-001 Warsaw, Poland"."""
    street = f"{address.line1.strip()[:1]}…" if address.line1.strip() else ""
    town = f"{address.postal_code} {address.city}".strip()
    return ", ".join(part for part in (f"{street} {town}".strip(), str(countries.name(address.country))) if part)


def payment_sentence(order: Order) -> str:
    """Whether the money arrived: "Payment received on <day>", or what is still awaited."""
    if order.paid_at is not None:
        return f"Payment received on {day(order.paid_at)}."
    if order.status != S.UNHANDLED:
        return ""
    if order.amount_paid > 0:
        return (
            f"We have received {money(order.amount_paid, order.currency)}; "
            f"waiting for the remaining {money(order.balance_due, order.currency)}."
        )
    return f"Waiting for your payment of {money(order.total, order.currency)}."


def next_sentence(order: Order, today: date) -> str:
    """What happens next and, when the shop has promised a day, by when."""
    if order.status == S.UNHANDLED:
        return "As soon as your payment arrives, our warehouse prepares your order; we email you when it ships."
    if order.status in (S.PAID, S.PICKING, S.PACKED):
        if order.ship_by is None:
            step = "goes to the courier next" if order.status == S.PACKED else "leaves our warehouse once it is packed"
            return f"It {step}; we email you the tracking link when it ships."
        if order.ship_by < today:
            return (
                "It is taking longer than we planned: it leaves our warehouse as soon as it is ready, "
                "and we email you the tracking link when it ships."
            )
        return f"It leaves our warehouse by {day(order.ship_by)}; we email you the tracking link when it ships."
    if order.status == S.SHIPPED:
        return "The courier brings it to you; follow it with the tracking link below."
    if order.status == S.CANCELLED:
        due = refund_due(order)
        if due > 0:
            return (
                f"We owe you {money(due, order.currency)}: we refund it the way you paid and email you "
                "when the refund is on its way."
            )
        return "" if order.amount_refunded else "You have not been charged for it."
    return ""


def _related(obj: Any, name: str) -> Any:
    """A reverse one-to-one read with ``select_related``: the row, or None when there is none."""
    try:
        return getattr(obj, name)
    except AttributeError:  # RelatedObjectDoesNotExist is one; no query is made either way
        return None


# The scans shown under the latest one: enough to see the parcel's way, not the whole log.
RECENT_SCANS = 5


def _scan(event: TrackingEvent) -> LatestScan:
    return LatestScan(
        status=TRACKING_WORDS.get(event.status, event.get_status_display()),
        description=event.description,
        location=event.location,
        occurred_at=event.occurred_at,
    )


def _parcels(shipment: Shipment) -> tuple[list[Parcel], list[LatestScan]]:
    """The shipment's live parcels, and its latest scans (newest first, at most
    ``RECENT_SCANS``)."""
    labels = Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE, tracking_number__isnull=False)
    parcels = [
        Parcel(
            tracking_number=str(label.tracking_number),
            url=shipment.carrier.tracking_url(str(label.tracking_number)),
            status=TRACKING_WORDS.get(label.tracking_status, ""),
        )
        for label in labels.order_by("package_id", "id")
    ]
    events = TrackingEvent.objects.filter(label__shipment=shipment, label__status=LabelStatus.LIVE).order_by(
        "-occurred_at", "-id"
    )[:RECENT_SCANS]
    return parcels, [_scan(event) for event in events]


def _page_orders() -> QuerySet[Order]:
    """The link's order as the page reads it, joined in the query that checks the link (which
    stays one query whatever the link): its address, shipment, carrier and invoice."""
    return Order.objects.select_related("shipping_address", "shipment__carrier", "invoice").defer(
        "invoice__bill_to", "invoice__lines"
    )


def _page(order: Order, token: str) -> dict[str, Any]:
    """What the page shows of ``order`` (read by ``_page_orders``), in a fixed number of
    queries whatever the order's size: its lines; once shipped its parcels and their latest
    scan; once delivered its returns with their lines, what can still be returned while the
    return window is open, and for an approved return the warehouse to send it to."""
    prefetch_related_objects([order], Prefetch("lines", queryset=OrderLine.objects.order_by("position")))
    shipment: Shipment | None = _related(order, "shipment")
    invoice: Invoice | None = _related(order, "invoice")
    parcels, scans = _parcels(shipment) if shipment is not None and order.status in _SHIPPED else ([], [])
    heading, sentence = HEADLINES[order.status]
    # Forms and actions are offered only while the order allows them (orders.services.customer).
    can_cancel = customer_cancel_refusal(order) is None
    can_change_address = customer_address_refusal(order) is None
    returns = order_returns(order, token) if order.executed_at is not None else []
    can_return = return_refusal(order) is None
    # Delivered orders are rated once: the rating given, or the form (one query).
    feedback = OrderFeedback.objects.filter(order=order).first() if order.status in RATEABLE else None
    can_rate = order.status in RATEABLE and order.executed_at is not None and feedback is None
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "heading": heading,
        "sentence": sentence,
        "steps": status_timeline(order),
        "destination": masked_address(order.shipping_address),
        "carrier_name": shipment.carrier.name if shipment is not None and parcels else "",
        "parcels": parcels,
        "latest": scans[0] if scans else None,
        "earlier_scans": scans[1:],
        "promised_delivery": order.promised_delivery if order.status in _RANK and order.status != S.EXECUTED else None,
        "invoice_url": reverse("order-status-invoice", kwargs={"token": token}) if invoice is not None else "",
        "payment": payment_sentence(order),
        "next": next_sentence(order, timezone.localdate()),
        "cancel_url": reverse("order-status-cancel", kwargs={"token": token}) if can_cancel else "",
        "address_url": reverse("order-status-address", kwargs={"token": token}) if can_change_address else "",
        "cancel_form": CancelForm() if can_cancel else None,
        "address_form": AddressForm() if can_change_address else None,
        "country_name": countries.name(order.shipping_address.country),
        "returns": returns,
        "return_window": return_window_sentence(order),
        "return_url": reverse("order-status-return", kwargs={"token": token}) if can_return else "",
        "return_address": return_address(order) if any(ret.send_back for ret in returns) else None,
        "feedback": feedback,
        "feedback_form": FeedbackForm() if can_rate else None,
        "feedback_url": reverse("order-status-feedback", kwargs={"token": token}) if can_rate else "",
        **_shop(),
    }


def _shop() -> dict[str, str]:
    return {
        "shop_name": settings.OMS_SHOP_NAME,
        "support_email": settings.OMS_SUPPORT_EMAIL,
        "support_phone": settings.OMS_SUPPORT_PHONE,
    }


def _private(response: HttpResponse) -> HttpResponse:
    """Kept out of search engines and shared caches; the link not passed on in Referer to
    other sites (the shop's own forms still post with their Origin, which CSRF checks)."""
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _link_not_valid(request: HttpRequest) -> HttpResponse:
    """The one answer to every link that opens no order."""
    return _private(render(request, "notifications/status/not_found.html", _shop(), status=404))


@require_safe
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    order = order_for_token(token, orders=_page_orders())
    if order is None:
        return _link_not_valid(request)
    return _private(render(request, "notifications/status/order.html", _page(order, token)))


@require_safe
def order_status_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """The invoice PDF of the link's order; a page saying it comes once the order is paid
    while it has none."""
    order = order_for_token(token)
    if order is None:
        return _link_not_valid(request)
    invoice = Invoice.objects.filter(order=order).first()
    if invoice is None:
        context = {
            **_shop(),
            "order": order,
            "status_url": reverse("order-status", kwargs={"token": token}),
        }
        return _private(render(request, "notifications/status/no_invoice.html", context, status=404))
    invoice.order = order
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice)}"'
    return _private(response)


# --- looking an order up ------------------------------------------------------------------------

LOOKUP_SCOPE = "order_lookup"
NO_MATCH = (
    "We found no order with this number and this email address or postal code. Check both against "
    "your order confirmation email: the number starts with the letters shown there."
)
TOO_MANY = (
    "Too many lookups from your connection. Wait a while (at most an hour) and try again, or open the "
    "link in any email about your order."
)


class OrderLookupForm(forms.Form):
    number = forms.CharField(
        label="Order number", max_length=32, help_text="As in your order confirmation email.", strip=True
    )
    contact = forms.CharField(
        label="Email address or delivery postal code",
        max_length=254,
        help_text="The email address you ordered with, or the postal code the order goes to.",
        strip=True,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def order_lookup(request: HttpRequest) -> HttpResponse:
    """/track/: the order number and the email address or postal code open the order's
    status page. Every attempt counts against the client address's budget
    (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["order_lookup"]``, in the cache)."""
    form = OrderLookupForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not attempt_allowed(request, LOOKUP_SCOPE):
            form = OrderLookupForm(initial=request.POST.dict())
            return _private(
                render(
                    request,
                    "notifications/status/lookup.html",
                    {**_shop(), "form": form, "refused": TOO_MANY},
                    status=429,
                )
            )
        if form.is_valid():
            order = order_for_lookup(form.cleaned_data["number"], form.cleaned_data["contact"])
            if order is not None:
                response = HttpResponseRedirect(status_link_path(order))
                response.status_code = 303  # See Other: the page is read with GET
                return _private(response)
            form.add_error(None, NO_MATCH)
            status = 404
        else:
            status = 400
    return _private(render(request, "notifications/status/lookup.html", {**_shop(), "form": form}, status=status))
