"""Returns for staff: the queue (/staff/returns/), one return and its actions
(/staff/returns/<number>/...), and starting a return on a customer's behalf from the order
page (/staff/orders/<number>/returns/new/).

Every action is a POST behind its own permissions (a role without them gets 403 whatever the
page showed), runs one returns service, and comes back to the return's page with the outcome
as a message (Post/Redirect/Get). Rejecting, cancelling and refunding cannot be undone: their
first POST answers with a confirmation page, and only the second, from that page, does it.
Who may take each action is decided as in the returns API: ``returns.handle_return`` for
approving, rejecting and refunding, ``returns.receive_return`` for receiving and inspecting;
cancelling with either ``returns.handle_return`` or ``returns.add_return``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.forms import first_error
from dashboard.forms_returns import (
    STATUS_ALL,
    STATUS_NEEDS_WORK,
    ApproveForm,
    CancelReturnForm,
    InspectForm,
    ReceiveForm,
    RejectForm,
    ReturnQueueFilter,
    ReturnRefundForm,
    StartReturnForm,
)
from dashboard.selectors import returns as selectors
from dashboard.selectors.incidents import age_label
from dashboard.views.common import View, act, request_actor, staff_permission
from oms.common.errors import ApplicationError, InvalidInput, NotFound
from orders.models import Order, OrderLine
from returns import services
from returns.enums import InspectionOutcome, ReturnStatus
from returns.models import ReturnLine

PER_PAGE = 50


def staff_any_permission(*perms: str) -> Callable[[View], View]:
    """Like ``staff_permission``, for pages and actions open to holders of any one of
    ``perms``: anonymous visitors go to the log-in, others without one get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(check)

    return decorate


def sentence(exc: ApplicationError) -> str:
    """What a refusal says to staff: the service's message and, for refused input, what is
    wrong with each field (``InvalidInput`` keeps the details there)."""
    if isinstance(exc, InvalidInput):
        details = [message for messages_ in exc.fields.values() for message in messages_]
        return " ".join([exc.message, *details])
    return exc.message


# --- the queue ------------------------------------------------------------------------------


@require_GET
@staff_permission(selectors.VIEW_RETURN)
def return_queue(request: HttpRequest) -> HttpResponse:
    """Returns needing work (or of one status), newest first, fifty a page."""
    form = ReturnQueueFilter(request.GET)
    if form.is_valid():
        filters = form.cleaned_data
    else:
        # Only a hand-edited address gets here: say so, and show what needs work.
        messages.warning(request, "That filter is not one of the choices: showing the returns needing work.")
        filters = {}
        form = ReturnQueueFilter()
    status = filters.get("status") or STATUS_NEEDS_WORK
    statuses: tuple[str, ...] | None
    if status == STATUS_NEEDS_WORK:
        statuses = selectors.NEEDS_WORK
    elif status == STATUS_ALL:
        statuses = None
    else:
        statuses = (status,)
    search = filters.get("q") or ""
    page = Paginator(selectors.return_queue(statuses=statuses, search=search), PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = selectors.return_status_counts()
    now = timezone.now()
    rows = []
    for ret in page.object_list:
        lines = list(ret.lines.all())
        rows.append(
            {
                "ret": ret,
                "units": sum(line.quantity for line in lines),
                "reasons": selectors.reason_summary(lines),
                "age": age_label(ret.created_at, now),
            }
        )
    status_choices = [
        (STATUS_NEEDS_WORK, "Needing work", sum(counts.get(s, 0) for s in selectors.NEEDS_WORK)),
        (STATUS_ALL, "Every status", sum(counts.values())),
        *((value, label, counts.get(value, 0)) for value, label in ReturnStatus.choices),
    ]
    return render(
        request,
        "dashboard/returns/list.html",
        {
            "form": form,
            "status": status,
            "search": search,
            "status_choices": status_choices,
            "page": page,
            "rows": rows,
            "filtered": bool(search) or status != STATUS_NEEDS_WORK,
        },
    )


# --- one return -----------------------------------------------------------------------------


def _not_found(request: HttpRequest, number: str, message: str) -> HttpResponse:
    return render(request, "dashboard/returns/not_found.html", {"number": number, "message": message}, status=404)


@require_GET
@staff_permission(selectors.VIEW_RETURN)
def return_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Everything about one return and the actions this user may take on it now."""
    try:
        page = selectors.return_page(number=number, user=request.user)
    except NotFound as exc:
        return _not_found(request, number, exc.message)
    ret = page.ret
    names = page.action_names
    # Each form gets its own id prefix, so labels point at the right input.
    action_forms: dict[str, django_forms.Form] = {
        "approve": ApproveForm(auto_id="approve_%s"),
        "reject": RejectForm(auto_id="reject_%s"),
        "cancel": CancelReturnForm(auto_id="cancel_%s"),
    }
    if "receive" in names:
        action_forms["receive"] = ReceiveForm(lines=[row.line for row in page.lines], auto_id="receive_%s")
    if "refund" in names:
        action_forms["refund"] = ReturnRefundForm(
            auto_id="refund_%s",
            initial={"amount": page.refund_due, "method": page.refund_method, "reference": ""},
        )
    inspect_forms = []
    if "inspect" in names:
        for row in page.lines:
            if row.left_to_inspect > 0:
                form = InspectForm(
                    bins=page.bins,
                    auto_id=f"inspect_{row.line.pk}_%s",
                    initial={"sku": row.order_line.sku, "quantity": row.left_to_inspect},
                )
                form.fields["quantity"].widget.attrs["max"] = row.left_to_inspect
                inspect_forms.append((row, form))
    return render(
        request,
        "dashboard/returns/detail.html",
        {
            "page": page,
            "ret": ret,
            "order": ret.order,
            "actions": [(action, action_forms.get(action.name)) for action in page.actions],
            "inspect_forms": inspect_forms,
        },
    )


# --- actions --------------------------------------------------------------------------------


def _back(number: str) -> HttpResponse:
    return redirect("dashboard:return", number=number)


def _act(
    request: HttpRequest,
    number: str,
    form: django_forms.Form,
    run: Callable[[dict[str, Any]], str],
    *,
    confirm: str = "",
) -> HttpResponse:
    """An action of the return's page (``common.act``); a refused input names each field."""
    return act(request, form, run, back=("dashboard:return", number), confirm=confirm, say=sentence)


@require_POST
@staff_any_permission(*selectors.ACTIONS["approve"].perms)
def return_approve(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        services.return_approve(actor=actor, number=number, note=data["note"])
        return f"Return {number} is approved; the customer is emailed how to send it back."

    return _act(request, number, ApproveForm(request.POST), run)


@require_POST
@staff_any_permission(*selectors.ACTIONS["reject"].perms)
def return_reject(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        services.return_reject(actor=actor, number=number, reason=data["reason"])
        return f"Return {number} is rejected; the customer is told why."

    return _act(
        request,
        number,
        RejectForm(request.POST),
        run,
        confirm=f"Reject return {number}? The customer is emailed the reason, and a rejected return is final.",
    )


@require_POST
@staff_any_permission(*selectors.ACTIONS["cancel"].perms)
def return_cancel(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        services.return_cancel(actor=actor, number=number, reason=data["reason"])
        return f"Return {number} is cancelled; its items can be asked back again on a new return."

    return _act(
        request,
        number,
        CancelReturnForm(request.POST),
        run,
        confirm=f"Cancel return {number}? Do it only if nothing came back: a cancelled return cannot be reopened.",
    )


def _lines(number: str) -> list[ReturnLine]:
    return list(
        ReturnLine.objects.filter(ret__number=number).select_related("order_line").order_by("order_line__position")
    )


@require_POST
@staff_any_permission(*selectors.ACTIONS["receive"].perms)
def return_receive(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)
    form = ReceiveForm(request.POST, lines=_lines(number))

    def run(data: dict[str, Any]) -> str:
        received = form.received()
        ret = services.return_receive(actor=actor, number=number, received=received, note=data["note"])
        units = sum(received.values())
        return (
            f"Return {ret.number} is received: {units} unit{'s' if units != 1 else ''} came back. "
            "Inspect each one next."
        )

    return _act(request, number, form, run)


@require_POST
@staff_any_permission(*selectors.ACTIONS["inspect"].perms)
def return_inspect(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        restock = data["outcome"] == InspectionOutcome.RESTOCK
        ret = services.return_inspect(
            actor=actor,
            number=number,
            sku=data["sku"],
            outcome=data["outcome"],
            quantity=data["quantity"],
            location=data["location"] if restock else None,
            note=data["note"],
        )
        units = f"{data['quantity']} unit{'s' if data['quantity'] != 1 else ''} of {data['sku']}"
        done = f"{units} back in bin {data['location'].code}." if restock else f"{units} scrapped."
        if ret.status == ReturnStatus.INSPECTED:
            done += " Every unit is inspected: the return is ready to refund."
        return done

    return _act(request, number, InspectForm(request.POST, bins=selectors.active_bins()), run)


@require_POST
@staff_any_permission(*selectors.ACTIONS["refund"].perms)
def return_refund(request: HttpRequest, number: str) -> HttpResponse:
    actor = request_actor(request)

    def run(data: dict[str, Any]) -> str:
        ret = services.return_refund(
            actor=actor,
            number=number,
            refund=services.RefundData(amount=data["amount"], method=data["method"], reference=data["reference"]),
            note=data["note"],
        )
        refund = ret.refund
        assert refund is not None
        return f"Refund of {refund.amount} {refund.currency} recorded for return {number}; the customer is told."

    form = ReturnRefundForm(request.POST)
    amount = form.data.get("amount", "")
    return _act(
        request,
        number,
        form,
        run,
        confirm=f"Record a refund of {amount} for return {number}? Make sure the money has gone back through the "
        "provider or bank first: a recorded refund cannot be taken back, and the customer is emailed.",
    )


# --- starting a return from the order page --------------------------------------------------


def _order_for_return(number: str) -> Order | None:
    return (
        Order.objects.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("position")))
        .filter(number=number)
        .first()
    )


@require_http_methods(["GET", "POST"])
@staff_permission(selectors.ADD_RETURN)
def order_return_start(request: HttpRequest, number: str) -> HttpResponse:
    """The form to ask for a return on a customer's behalf; on success to the new return."""
    order = _order_for_return(number)
    if order is None:
        return render(
            request,
            "dashboard/orders/not_found.html",
            {"number": number, "message": f"There is no order {number}. Check the number."},
            status=404,
        )
    may_ask_late = request.user.has_perm(selectors.LATE_RETURN)
    if request.method == "POST" and request.POST.get("allow_late") and not may_ask_late:
        raise PermissionDenied("Only managers may accept a return after the return window.")
    try:
        services.return_require_requestable(order, allow_late=may_ask_late)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:order", number=number)
    lines = list(order.lines.all())
    left = services.returnable_quantities(order)
    if not any(units > 0 for units in left.values()):
        messages.error(request, f"Every item of order {number} is already on a return: nothing is left to return.")
        return redirect("dashboard:order", number=number)
    if request.method == "GET":
        form = StartReturnForm(lines=lines, left=left, may_ask_late=may_ask_late)
        return _start_page(request, order, form)
    form = StartReturnForm(request.POST, lines=lines, left=left, may_ask_late=may_ask_late)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _start_page(request, order, form, status=400)
    try:
        ret = services.return_request(
            actor=request_actor(request),
            order_number=number,
            lines=form.line_data(),
            comment=form.cleaned_data["comment"],
            allow_late=bool(form.cleaned_data.get("allow_late")),
        )
    except ApplicationError as exc:
        messages.error(request, sentence(exc))
        return _start_page(request, order, form, status=exc.http_status)
    messages.success(
        request,
        f"Return {ret.number} is requested for order {number}; the customer is emailed the RMA number. "
        "Approve it when the shop takes it.",
    )
    return redirect("dashboard:return", number=ret.number)


def _start_page(request: HttpRequest, order: Order, form: StartReturnForm, status: int = 200) -> HttpResponse:
    closes = services.return_window_closes(order)
    context = {
        "order": order,
        "form": form,
        "window_closes": closes,
        "window_closed": closes is not None and timezone.localdate() > closes,
        "returns": selectors.order_returns(order.pk),
    }
    return render(request, "dashboard/returns/start.html", context, status=status)
