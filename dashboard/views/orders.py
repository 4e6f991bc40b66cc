"""The order page and its actions (/staff/orders/<number>/...).

Every action is a POST behind its own permission (a role without it gets 403 whatever the page
showed), runs one service, and comes back to the order page with the outcome as a message
(Post/Redirect/Get). Actions that cannot be undone answer their first POST with a
confirmation page; only the second POST, from that page, does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import forms
from dashboard.selectors.orders import OrderPage, order_for_edit, order_page
from dashboard.views.common import act, request_actor, staff_permission
from fulfillment.services.picking import order_pick_abort, order_pick_start
from oms.common.errors import ApplicationError, NotFound
from orders import services
from orders.models import Order

VIEW = "orders.view_order"


def _not_found(request: HttpRequest, number: str, message: str) -> HttpResponse:
    return render(request, "dashboard/orders/not_found.html", {"number": number, "message": message}, status=404)


@require_GET
@staff_permission(VIEW)
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Everything about one order and the actions this user may take on it now."""
    try:
        page = order_page(number=number, user=request.user, full=request.GET.get("full") == "1")
    except NotFound as exc:
        return _not_found(request, number, exc.message)
    return render(request, "dashboard/orders/detail.html", _page_context(page))


def _page_context(page: OrderPage) -> dict[str, Any]:
    # Each action form gets its own id prefix, so labels point at the right input.
    names = page.action_names
    action_forms: dict[str, django_forms.Form] = {
        "cancel": forms.CancelForm(auto_id="cancel_%s"),
        "record_payment": forms.PaymentForm(auto_id="payment_%s", initial={"amount": page.order.balance_due}),
        "refund": forms.RefundForm(
            auto_id="refund_%s", initial={"amount": page.order.amount_paid - page.order.amount_refunded}
        ),
        "mark_returned": forms.ReturnForm(auto_id="return_%s"),
        "revoke_links": forms.RevokeLinksForm(auto_id="revoke_%s"),
        "start_picking": forms.NoteForm(auto_id="start_%s"),
        "abort_picking": forms.NoteForm(auto_id="abort_%s"),
        "split": forms.NoteForm(auto_id="split_%s"),
    }
    return {
        "page": page,
        "order": page.order,
        "actions": [(action, action_forms.get(action.name)) for action in page.actions],
        "may_edit": "edit" in names,
    }


# --- actions --------------------------------------------------------------------------------


def _back(number: str) -> HttpResponse:
    return redirect("dashboard:order", number=number)


def _act(
    request: HttpRequest,
    number: str,
    form: django_forms.Form,
    run: Callable[[dict[str, Any]], str],
    *,
    confirm: str = "",
) -> HttpResponse:
    """An action of the order's page (``common.act``)."""
    return act(request, form, run, back=("dashboard:order", number), confirm=confirm)


@require_POST
@staff_permission("orders.cancel_order")
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        services.order_cancel(actor=actor, number=number, reason=data["reason"])
        return f"Order {number} is cancelled; its stock is free again and the customer is told."

    return _act(
        request,
        number,
        forms.CancelForm(request.POST),
        run,
        confirm=f"Cancel order {number}? Its stock goes back on sale and the customer is emailed. "
        "A cancelled order cannot be reopened.",
    )


@require_POST
@staff_permission("orders.start_picking_order")
def order_start_picking(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        order_pick_start(actor=actor, number=number, note=data["note"])
        return f"Picking of order {number} started: the pick list is yours under Picking."

    return _act(request, number, forms.NoteForm(request.POST), run)


@require_POST
@staff_permission("orders.abort_picking_order")
def order_abort_picking(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        order_pick_abort(actor=actor, number=number, note=data["note"])
        return f"Picking of order {number} stopped: it is back to paid. Put its tote aside."

    return _act(request, number, forms.NoteForm(request.POST), run)


@require_POST
@staff_permission("orders.return_order")
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        services.order_mark_returned(actor=actor, number=number, note=data["note"])
        return f"Order {number} is marked returned. Record a refund if money goes back."

    return _act(
        request,
        number,
        forms.ReturnForm(request.POST),
        run,
        confirm=f"Mark order {number} returned? The customer is emailed, and a returned order is final.",
    )


@require_POST
@staff_permission("orders.record_payment")
def order_payment(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        result = services.payment_record(
            actor=actor, number=number, amount=data["amount"], method=data["method"], reference=data["reference"]
        )
        if not result.created:
            return f"Payment {data['reference']} was recorded before; nothing was added."
        order = result.order
        if order.status == "paid" and order.balance_due == 0:
            return f"Payment of {result.payment.amount} {order.currency} recorded: order {number} is paid."
        return (
            f"Payment of {result.payment.amount} {order.currency} recorded; "
            f"{order.balance_due} {order.currency} is still due."
        )

    return _act(request, number, forms.PaymentForm(request.POST), run)


@require_POST
@staff_permission("orders.refund_order")
def order_refund(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        result = services.refund_record(
            actor=actor,
            number=number,
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            reason=data["reason"],
        )
        if not result.created:
            return f"Refund {data['reference']} was recorded before; nothing was added."
        return f"Refund of {result.refund.amount} {result.order.currency} recorded; the customer is told."

    form = forms.RefundForm(request.POST)
    amount = form.data.get("amount", "")
    return _act(
        request,
        number,
        form,
        run,
        confirm=f"Record a refund of {amount} on order {number}? Make sure the money has gone back through the "
        "provider or bank first: a recorded refund cannot be taken back, and the customer is emailed.",
    )


@require_POST
@staff_permission("orders.split_order")
def order_split(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        result = services.order_split(actor=actor, number=number)
        return (
            f"The items in stock went on as order {result.new_order.number}, ready to pick; "
            f"order {number} waits for the rest."
        )

    return _act(
        request,
        number,
        forms.NoteForm(request.POST),
        run,
        confirm=f"Split order {number}? Its items in stock go on as a new order now and the rest waits. "
        "The two orders cannot be joined again.",
    )


@require_POST
@staff_permission("orders.revoke_status_links")
def order_revoke_links(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        services.order_revoke_status_links(actor=actor, number=number, reason=data["reason"])
        return f"The status links of order {number} sent so far no longer open it; new emails carry a new link."

    return _act(
        request,
        number,
        forms.RevokeLinksForm(request.POST),
        run,
        confirm=f"Revoke the status links of order {number}? Every link sent so far stops working for good.",
    )


# --- changing an order ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_permission("orders.edit_order")
def order_edit(request: HttpRequest, number: str) -> HttpResponse:
    """The form to change an order before picking; on success back to the order page."""
    try:
        order, lines = order_for_edit(number=number)
    except NotFound as exc:
        return _not_found(request, number, exc.message)
    editable = order.status in services.EDITABLE_STATUSES
    if request.method == "GET":
        if not editable:
            messages.error(
                request,
                f"Order {number} is {order.get_status_display().lower()}: it can be changed only before picking.",
            )
            return _back(number)
        form = forms.OrderEditForm(order=order, lines=lines)
        return _edit_page(request, order, form)
    form = forms.OrderEditForm(request.POST, order=order, lines=lines)
    if not form.is_valid():
        return _edit_page(request, order, form, status=400)
    try:
        edited = services.order_edit(
            actor=request_actor(request),
            number=number,
            address=form.address_data(),
            lines=form.line_data(),
            shipping_method=form.cleaned_data["shipping_method"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _edit_page(request, order, form, status=exc.http_status)
    messages.success(request, _edited_message(edited))
    return _back(number)


def _edited_message(order: Order) -> str:
    held = order.amount_paid - order.amount_refunded
    message = f"Order {order.number} changed; the customer is emailed what changed."
    if order.amount_paid and held < order.total:
        message += f" {order.total - held} {order.currency} more is due: record the payment when it arrives."
    elif order.amount_paid and held > order.total:
        message += f" {held - order.total} {order.currency} was paid above the new total: refund the difference."
    return message


def _edit_page(request: HttpRequest, order: Order, form: forms.OrderEditForm, status: int = 200) -> HttpResponse:
    context = {"order": order, "form": form, "cancel_url": reverse("dashboard:order", args=[order.number])}
    return render(request, "dashboard/orders/edit.html", context, status=status)
