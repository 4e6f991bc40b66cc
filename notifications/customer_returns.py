"""Returns from the customer's order-status page: asking to send items of a delivered order
back (/track/<token>/return/) and printing an approved return's label
(/track/<token>/returns/<rma>/label.pdf).

As the page's other actions (``notifications/customer_actions.py``): the signed link opens
them, and a forged, altered or revoked link, or an RMA number of another order, gets the
page's one 404. GET shows the form; POST validates, calls ``returns.services.return_request``
as the customer and sends them back to the status page (303) with the RMA number in the
messages. A return the order does not allow (not delivered, the return window closed,
everything already on a return) answers 409 with a sentence saying why and writes nothing.
Every answer is as private as the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from notifications.customer_actions import _back_to_status, _context, _refused
from notifications.customer_forms import ReturnForm
from notifications.customer_return_status import return_refusal
from notifications.customer_views import _link_not_valid, _private
from notifications.status_links import order_for_token
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput, NotFound
from orders.models import Order, OrderLine
from returns.models import Return
from returns.selectors import return_label_pdf
from returns.services import return_request, return_window_closes, returnable_quantities

RETURN_TEMPLATE = "notifications/status/return.html"
NO_LABEL_TEMPLATE = "notifications/status/no_return_label.html"


def _requested_sentence(ret: Return) -> str:
    return (
        f"Your return {ret.number} is requested: mention this number whenever you write to us about it. "
        "We check your request and email you; once we accept it, that email tells you how to pack the items "
        "and where to send them. Please send nothing before."
    )


@require_http_methods(["GET", "HEAD", "POST"])
def order_status_return(request: HttpRequest, token: str) -> HttpResponse:
    """Asks for a return of units of the link's delivered order, each line with a reason."""
    order = order_for_token(token)
    if order is None:
        return _link_not_valid(request)
    refusal = return_refusal(order)
    if refusal is not None:
        return _refused(request, RETURN_TEMPLATE, order, token, refusal)
    lines = list(OrderLine.objects.filter(order=order).order_by("position"))
    form = ReturnForm(
        request.POST if request.method == "POST" else None, lines=lines, left=returnable_quantities(order)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            asked = form.asked()
            try:
                ret = return_request(
                    actor=Actor.customer(),
                    order_number=order.number,
                    lines=[data for _, data in asked],
                    comment=form.cleaned_data["comment"],
                )
            except NotFound:
                return _link_not_valid(request)
            except Conflict as exc:  # the window closed, or the order moved on, since the form was shown
                fresh = Order.objects.get(pk=order.pk)
                return _refused(request, RETURN_TEMPLATE, fresh, token, return_refusal(fresh) or exc.message)
            except InvalidInput as exc:  # a unit asked back by another return meanwhile, a comment missing
                form.add_service_errors(exc, [line for line, _ in asked])
            else:
                messages.success(request, _requested_sentence(ret))
                return _back_to_status(token)
    context = _context(
        order,
        token,
        form=form,
        return_url=reverse("order-status-return", kwargs={"token": token}),
        window_closes=return_window_closes(order),
    )
    return _private(render(request, RETURN_TEMPLATE, context, status=status))


@require_safe
def order_status_return_label(request: HttpRequest, token: str, rma: str) -> HttpResponse:
    """The label PDF of a return of the link's order, once the carrier made it; a page
    saying it is not ready while it is not."""
    order = order_for_token(token)
    if order is None or not Return.objects.filter(order=order, number=rma).exists():
        return _link_not_valid(request)
    try:
        label = return_label_pdf(number=rma)
    except NotFound:
        return _link_not_valid(request)
    if label is None:
        return _private(render(request, NO_LABEL_TEMPLATE, _context(order, token, rma=rma), status=404))
    response = HttpResponse(label[1], content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{rma}-label.pdf"'
    return _private(response)
