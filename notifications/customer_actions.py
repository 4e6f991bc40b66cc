"""What customers do on their order-status page: cancel the order before picking starts
(/track/<token>/cancel/), send it to another address before it is packed
(/track/<token>/address/), and rate it once delivered (/track/<token>/feedback/).

The signed link opens the action as it opens the page: a forged, altered or revoked link
gets the page's one 404. GET shows the form; POST validates, calls one orders service and
sends the customer back to the status page (303) with a confirmation in the messages (kept in
a cookie, so the page reads no session). An action the order no longer allows answers 409
with a sentence saying why and changes nothing. Every answer is as private as the page.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_countries import countries

from notifications.customer_forms import AddressForm, CancelForm, FeedbackForm
from notifications.customer_views import LOOKUP_SCOPE, _link_not_valid, _private, _shop, masked_address
from notifications.formatting import money
from notifications.status_links import order_for_token
from oms.common.errors import ApplicationError, Conflict, InvalidInput, NotFound
from oms.common.throttling import attempt_allowed
from orders.models import Address, Order
from orders.services import (
    AddressData,
    customer_address_refusal,
    customer_cancel_refusal,
    feedback_refusal,
    order_cancel_by_customer,
    order_change_address_by_customer,
    order_feedback_give,
    refund_due,
)

CANCEL_TEMPLATE = "notifications/status/cancel.html"
FEEDBACK_TEMPLATE = "notifications/status/feedback.html"
ADDRESS_TEMPLATE = "notifications/status/address.html"
WRONG_EMAIL = "This is not the email address the order was placed with. Check your order confirmation email."
TOO_MANY = (
    "Too many attempts from your connection. Wait a while (at most an hour) and try again, or write to us "
    "and we will change the address for you."
)


def _context(order: Order, token: str, **extra: Any) -> dict[str, Any]:
    return {**_shop(), "order": order, "status_url": reverse("order-status", kwargs={"token": token}), **extra}


def _back_to_status(token: str) -> HttpResponse:
    response = HttpResponseRedirect(reverse("order-status", kwargs={"token": token}))
    response.status_code = 303  # See Other: the page is read with GET
    return _private(response)


def _refused(request: HttpRequest, template: str, order: Order, token: str, sentence: str) -> HttpResponse:
    """The action is not possible (any more): say why, offer no form."""
    return _private(render(request, template, _context(order, token, refused=sentence), status=409))


def _cancelled_sentence(order: Order) -> str:
    due = refund_due(order)
    if due > 0:
        return (
            f"Order {order.number} is cancelled. We owe you {money(due, order.currency)}: we refund it the way "
            "you paid and email you when the refund is on its way."
        )
    return f"Order {order.number} is cancelled. You have not been charged for it."


@require_http_methods(["GET", "HEAD", "POST"])
def order_status_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Cancels the link's order at the customer's request while it is unhandled or paid."""
    order = order_for_token(token)
    if order is None:
        return _link_not_valid(request)
    refusal = customer_cancel_refusal(order)
    if refusal is not None:
        return _refused(request, CANCEL_TEMPLATE, order, token, refusal)
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = order_cancel_by_customer(
                    number=order.number, reason=form.cleaned_data["reason"], comment=form.cleaned_data["comment"]
                )
            except NotFound:
                return _link_not_valid(request)
            except Conflict as exc:  # picking started since the form was shown
                return _refused(request, CANCEL_TEMPLATE, order, token, exc.message)
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _cancelled_sentence(order))
                return _back_to_status(token)
    context = _context(order, token, form=form, cancel_url=reverse("order-status-cancel", kwargs={"token": token}))
    return _private(render(request, CANCEL_TEMPLATE, context, status=status))


def _email_matches(order: Order, given: str) -> bool:
    return hmac.compare_digest(given.strip().casefold().encode(), order.customer_email.strip().casefold().encode())


@require_http_methods(["GET", "HEAD", "POST"])
def order_status_address(request: HttpRequest, token: str) -> HttpResponse:
    """Sends the link's order to a new address in the same country until it is packed. The
    customer confirms with the email address they ordered with; every try counts against the
    address lookup's budget (``order_lookup``), so the email cannot be guessed through it."""
    order = order_for_token(token)
    if order is None:
        return _link_not_valid(request)
    refusal = customer_address_refusal(order)
    if refusal is not None:
        return _refused(request, ADDRESS_TEMPLATE, order, token, refusal)
    address: Address = order.shipping_address
    form = AddressForm(request.POST if request.method == "POST" else None)
    page = {
        "destination": masked_address(address),
        "country_name": countries.name(address.country),
        "address_url": reverse("order-status-address", kwargs={"token": token}),
    }
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if not attempt_allowed(request, LOOKUP_SCOPE):
                form.add_error(None, TOO_MANY)
                status = 429
            elif not _email_matches(order, form.cleaned_data["email"]):
                form.add_error("email", WRONG_EMAIL)
            else:
                fields = {name: form.cleaned_data[name] for name in AddressForm.ADDRESS_FIELDS}
                try:
                    order_change_address_by_customer(
                        number=order.number, address=AddressData(**fields, country=str(address.country))
                    )
                except NotFound:
                    return _link_not_valid(request)
                except Conflict as exc:  # packed since the form was shown
                    return _refused(request, ADDRESS_TEMPLATE, order, token, exc.message)
                except ApplicationError as exc:  # the same address, a field the service refuses
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        f"Order {order.number} now goes to the new address. We are emailing you the change.",
                    )
                    return _back_to_status(token)
    return _private(render(request, ADDRESS_TEMPLATE, _context(order, token, form=form, **page), status=status))


@require_http_methods(["GET", "HEAD", "POST"])
def order_status_feedback(request: HttpRequest, token: str) -> HttpResponse:
    """Records the customer's rating (1-5) and comment of the link's delivered order, once."""
    order = order_for_token(token)
    if order is None:
        return _link_not_valid(request)
    refusal = feedback_refusal(order)
    if refusal is not None:
        return _refused(request, FEEDBACK_TEMPLATE, order, token, refusal.message)
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order_feedback_give(
                    number=order.number, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
                )
            except NotFound:
                return _link_not_valid(request)
            except Conflict as exc:  # rated from another tab meanwhile
                return _refused(request, FEEDBACK_TEMPLATE, order, token, exc.message)
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Thank you for rating order {order.number}: it helps us do better.")
                return _back_to_status(token)
    context = _context(order, token, form=form, feedback_url=reverse("order-status-feedback", kwargs={"token": token}))
    return _private(render(request, FEEDBACK_TEMPLATE, context, status=status))
