"""The picker's screens: my pick lists, taking a batch, walking the path, short bins, the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fulfillment import documents, forms
from fulfillment.enums import MANAGE, PICK, EntryState, PickListStatus, TaskStatus
from fulfillment.models import PickList, PickTask
from fulfillment.selectors import (
    next_task,
    orders_ready_to_pick,
    pick_list_detail,
    pick_list_list,
    pick_lists_of_picker,
)
from fulfillment.services import picking
from fulfillment.views.common import (
    pdf_response,
    redirect_invalid,
    request_actor,
    request_user,
    staff_permission,
    with_order_count,
)
from oms.common.errors import ApplicationError, NotFound


@require_GET
@staff_permission(PICK)
def picking_home(request: HttpRequest) -> HttpResponse:
    """The picker's lists (being picked first), the queue, and the button that takes a batch."""
    user = request_user(request)
    can_manage = user.has_perm(MANAGE)
    context: dict[str, Any] = {
        "my_lists": with_order_count(pick_lists_of_picker(user.pk)),
        "queue_count": orders_ready_to_pick().count(),
        "batch_sizes": forms.batch_sizes(),
        "default_batch": forms.default_batch_size(),
        "can_manage": can_manage,
    }
    if can_manage:
        context["other_lists"] = with_order_count(
            pick_list_list()
            .filter(status__in=[PickListStatus.PICKING, PickListStatus.ASSIGNED])
            .exclude(picker_id=user.pk)
            .order_by("-status", "id")
        )
        context["pickers"] = forms.picker_choices()
    return render(request, "fulfillment/picking_home.html", context)


@require_POST
@staff_permission(PICK)
def pick_list_take(request: HttpRequest) -> HttpResponse:
    form = forms.TakeBatchForm(request.POST)
    if not form.is_valid():
        return redirect_invalid(request, form, "fulfillment:picking")
    try:
        pick_list = picking.pick_list_create(
            actor=request_actor(request), picker=request_user(request), max_orders=form.cleaned_data["max_orders"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:picking")
    orders = pick_list.entries.count()
    messages.success(request, f"Pick list {pick_list.number} with {orders} order(s) is yours: start picking.")
    return redirect("fulfillment:pick-list", pick_list.number)


@require_POST
@staff_permission(MANAGE)
def pick_list_make(request: HttpRequest) -> HttpResponse:
    """A manager puts named orders on a list for a chosen picker."""
    form = forms.CreatePickListForm(request.POST, pickers=forms.picker_choices())
    if not form.is_valid():
        return redirect_invalid(request, form, "fulfillment:picking")
    picker = get_user_model().objects.get(pk=form.cleaned_data["picker"])
    try:
        pick_list = picking.pick_list_create(
            actor=request_actor(request), picker=picker, order_numbers=form.cleaned_data["orders"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:picking")
    messages.success(
        request,
        f"Pick list {pick_list.number} with {len(form.cleaned_data['orders'])} order(s) "
        f"is assigned to {picker.get_username()}.",
    )
    return redirect("fulfillment:picking")


def _may_work_on(request: HttpRequest, picker_id: int) -> bool:
    user = request_user(request)
    return picker_id == user.pk or user.has_perm(MANAGE)


@dataclass(frozen=True)
class Progress:
    picked: int
    total: int


def _progress(path: list[PickTask]) -> Progress:
    """Units picked of the units this round will yield: what is picked, plus what the open
    tasks still ask for (a short task asks for nothing more)."""
    live = [t for t in path if t.status != TaskStatus.CANCELLED]
    picked = sum(t.quantity_picked for t in live)
    return Progress(picked=picked, total=picked + sum(t.remaining for t in live if t.status == TaskStatus.OPEN))


@require_GET
@staff_permission(PICK)
def pick_list_page(request: HttpRequest, number: str) -> HttpResponse:
    """One pick list: start it, then the current task, the scan form and the rest of the path."""
    try:
        pick_list = pick_list_detail(number=number)
    except NotFound as exc:
        raise Http404(exc.message) from None
    if not _may_work_on(request, pick_list.picker_id):
        raise PermissionDenied(f"Pick list {number} is assigned to someone else.")
    path: list[PickTask] = pick_list.path  # type: ignore[attr-defined]
    current = next_task(pick_list) if pick_list.status == PickListStatus.PICKING else None
    return render(
        request,
        "fulfillment/pick_list.html",
        {
            "pick_list": pick_list,
            "entries": [e for e in pick_list.entries.all() if e.state != EntryState.REMOVED],
            "path": path,
            "current": current,
            "progress": _progress(path),
            "can_cancel": pick_list.status in (PickListStatus.ASSIGNED, PickListStatus.PICKING),
        },
    )


@require_POST
@staff_permission(PICK)
def pick_list_start(request: HttpRequest, number: str) -> HttpResponse:
    try:
        result = picking.pick_list_start(actor=request_actor(request), number=number)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:pick-list", number)
    for dropped in result.dropped:
        messages.warning(request, f"Order {dropped.number} was taken off the list: {dropped.reason}.")
    if result.pick_list.status == PickListStatus.CANCELLED:
        messages.error(request, f"Pick list {number} is cancelled: none of its orders can be picked now.")
        return redirect("fulfillment:picking")
    messages.success(request, f"Picking {number}: go to the first bin.")
    return redirect("fulfillment:pick-list", number)


@require_POST
@staff_permission(PICK)
def pick_list_scan(request: HttpRequest, number: str) -> HttpResponse:
    form = forms.ScanForm(request.POST)
    if not form.is_valid():
        return redirect_invalid(request, form, "fulfillment:pick-list", number)
    try:
        result = picking.pick_scan(
            actor=request_actor(request),
            number=number,
            code=form.cleaned_data["code"],
            task_id=form.cleaned_data["task"],
            quantity=form.cleaned_data["quantity"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("fulfillment:pick-list", number)


@require_POST
@staff_permission(PICK)
def pick_list_short(request: HttpRequest, number: str) -> HttpResponse:
    form = forms.ShortPickForm(request.POST)
    if not form.is_valid():
        return redirect_invalid(request, form, "fulfillment:pick-list", number)
    try:
        result = picking.pick_short(
            actor=request_actor(request),
            number=number,
            task_id=form.cleaned_data["task"],
            found=form.cleaned_data["found"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.warning(request, result.message)
    return redirect("fulfillment:pick-list", number)


@require_POST
@staff_permission(PICK)
def pick_list_cancel(request: HttpRequest, number: str) -> HttpResponse:
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        return redirect_invalid(request, form, "fulfillment:pick-list", number)
    try:
        picking.pick_list_cancel(actor=request_actor(request), number=number, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:pick-list", number)
    messages.success(request, f"Pick list {number} is cancelled; its orders are back in the queue.")
    return redirect("fulfillment:picking")


@require_GET
@staff_permission(PICK)
def pick_list_pdf(request: HttpRequest, number: str) -> HttpResponse:
    pick_list = PickList.objects.filter(number=number).only("picker_id").first()
    if pick_list is None:
        raise Http404(f"No pick list {number}.")
    if not _may_work_on(request, pick_list.picker_id):
        raise PermissionDenied(f"Pick list {number} is assigned to someone else.")
    try:
        return pdf_response(documents.pick_list_pdf(number), f"{number}.pdf")
    except NotFound as exc:
        raise Http404(exc.message) from None


# --- packing --------------------------------------------------------------------------------
