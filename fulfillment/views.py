"""Staff screens of fulfillment under /staff/: the picker's and the packer's, built for a
keyboard-wedge barcode scanner (one focused input, Enter submits) on a phone or handheld.

Every POST validates its form, calls one service and redirects (Post/Redirect/Get); what the
service answers comes back as a message: green when done, red when refused. A refused scan is
a result of the service (only its accuracy event is written); any other refusal is an
ApplicationError, and nothing changed. htmx (``hx-boost`` in the templates) only spares the
full page load; every screen works without it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fulfillment import documents, forms
from fulfillment.enums import EntryState, FulfillmentErrorCode, PackageStatus, PickListStatus, TaskStatus
from fulfillment.models import Package, PackingStation, PickList, PickTask
from fulfillment.selectors import (
    next_task,
    orders_ready_to_pick,
    package_type_list,
    packing_detail,
    pick_list_detail,
    pick_list_list,
    pick_lists_of_picker,
)
from fulfillment.services import packing, picking
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, NotFound
from orders.models import OrderLine

PICK = "fulfillment.pick"
MANAGE = "fulfillment.manage_pick_lists"
PACK = "fulfillment.pack"
OVERRIDE = "fulfillment.override_package_weight"
STATION_SESSION_KEY = "fulfillment_packing_station"

View = Callable[..., HttpResponse]


def staff_permission(perm: str) -> Callable[[View], View]:
    """Anonymous visitors go to the log-in; signed-in users without ``perm`` get 403."""

    def decorate(view: View) -> View:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_request(request)


def _invalid(request: HttpRequest, form: forms.forms.Form, to: str, *args: Any) -> HttpResponseRedirect:
    messages.error(request, forms.first_error(form))
    return redirect(to, *args)


# --- picking --------------------------------------------------------------------------------


def _with_order_count(lists: Any) -> list[PickList]:
    return list(lists.annotate(order_count=Count("entries", filter=~Q(entries__state=EntryState.REMOVED))))


@require_GET
@staff_permission(PICK)
def picking_home(request: HttpRequest) -> HttpResponse:
    """The picker's lists (being picked first), the queue, and the button that takes a batch."""
    user = _user(request)
    can_manage = user.has_perm(MANAGE)
    context: dict[str, Any] = {
        "my_lists": _with_order_count(pick_lists_of_picker(user.pk)),
        "queue_count": orders_ready_to_pick().count(),
        "batch_sizes": forms.batch_sizes(),
        "default_batch": forms.default_batch_size(),
        "can_manage": can_manage,
    }
    if can_manage:
        context["other_lists"] = _with_order_count(
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
        return _invalid(request, form, "fulfillment:picking")
    try:
        pick_list = picking.pick_list_create(
            actor=_actor(request), picker=_user(request), max_orders=form.cleaned_data["max_orders"]
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
        return _invalid(request, form, "fulfillment:picking")
    picker = get_user_model().objects.get(pk=form.cleaned_data["picker"])
    try:
        pick_list = picking.pick_list_create(
            actor=_actor(request), picker=picker, order_numbers=form.cleaned_data["orders"]
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
    user = _user(request)
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
        result = picking.pick_list_start(actor=_actor(request), number=number)
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
        return _invalid(request, form, "fulfillment:pick-list", number)
    try:
        result = picking.pick_scan(
            actor=_actor(request),
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
        return _invalid(request, form, "fulfillment:pick-list", number)
    try:
        result = picking.pick_short(
            actor=_actor(request), number=number, task_id=form.cleaned_data["task"], found=form.cleaned_data["found"]
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
        return _invalid(request, form, "fulfillment:pick-list", number)
    try:
        picking.pick_list_cancel(actor=_actor(request), number=number, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:pick-list", number)
    messages.success(request, f"Pick list {number} is cancelled; its orders are back in the queue.")
    return redirect("fulfillment:picking")


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@staff_permission(PICK)
def pick_list_pdf(request: HttpRequest, number: str) -> HttpResponse:
    pick_list = PickList.objects.filter(number=number).only("picker_id").first()
    if pick_list is None:
        raise Http404(f"No pick list {number}.")
    if not _may_work_on(request, pick_list.picker_id):
        raise PermissionDenied(f"Pick list {number} is assigned to someone else.")
    try:
        return _pdf(documents.pick_list_pdf(number), f"{number}.pdf")
    except NotFound as exc:
        raise Http404(exc.message) from None


# --- packing --------------------------------------------------------------------------------


def _active_stations() -> list[PackingStation]:
    return list(PackingStation.objects.filter(is_active=True).select_related("warehouse").order_by("code"))


def _station(request: HttpRequest, stations: list[PackingStation] | None = None) -> PackingStation | None:
    """The station remembered in the session, while it is still in use."""
    station_id = request.session.get(STATION_SESSION_KEY)
    if station_id is None:
        return None
    if stations is None:
        return PackingStation.objects.filter(pk=station_id, is_active=True).first()
    return next((s for s in stations if s.pk == station_id), None)


@require_GET
@staff_permission(PACK)
def packing_home(request: HttpRequest) -> HttpResponse:
    """Choose a station (when there are any), then scan an order or a tote."""
    stations = _active_stations()
    return render(
        request,
        "fulfillment/packing_home.html",
        {"stations": stations, "station": _station(request, stations)},
    )


@require_POST
@staff_permission(PACK)
def packing_station(request: HttpRequest) -> HttpResponse:
    stations = _active_stations()
    form = forms.PackingStationForm(request.POST, stations=stations)
    if not form.is_valid():
        return _invalid(request, form, "fulfillment:packing")
    station_id = form.cleaned_data["station"]
    if station_id is None:
        request.session.pop(STATION_SESSION_KEY, None)
        messages.success(request, "You pack without a station.")
    else:
        request.session[STATION_SESSION_KEY] = station_id
        messages.success(request, f"You pack at station {next(s.code for s in stations if s.pk == station_id)}.")
    return redirect("fulfillment:packing")


@require_POST
@staff_permission(PACK)
def packing_open(request: HttpRequest) -> HttpResponse:
    form = forms.PackingOpenForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, "fulfillment:packing")
    try:
        session = packing.packing_open(actor=_actor(request), code=form.cleaned_data["code"], station=_station(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:packing")
    return redirect("fulfillment:packing-order", session.order.number)


@dataclass(frozen=True)
class LineRow:
    line: OrderLine
    verified: int

    @property
    def complete(self) -> bool:
        return self.verified >= self.line.quantity


@dataclass(frozen=True)
class OverridePending:
    sequence: int
    weight_grams: int


def _override_pending(request: HttpRequest, open_package: Package | None) -> OverridePending | None:
    """The weight a supervisor is asked to approve, carried in the address after the refusal."""
    try:
        sequence, weight = int(request.GET["override"]), int(request.GET["weight"])
    except (KeyError, ValueError):
        return None
    if open_package is None or open_package.sequence != sequence or weight < 1:
        return None
    return OverridePending(sequence=sequence, weight_grams=weight)


@require_GET
@staff_permission(PACK)
def packing_page(request: HttpRequest, order_number: str) -> HttpResponse:
    """One order at the packing table: lines to verify, boxes, the scan form, weights."""
    try:
        session = packing_detail(order_number=order_number)
    except NotFound as exc:
        messages.error(request, f"{exc.message} Scan its number or tote to open it.")
        return redirect("fulfillment:packing")
    packages: list[Package] = list(session.packages.all())
    verified: dict[int, int] = defaultdict(int)
    for package in packages:
        for item in package.items.all():
            verified[item.line_id] += item.quantity
    lines = [LineRow(line, verified[line.pk]) for line in session.order.lines.all()]
    open_package = next((p for p in packages if p.status == PackageStatus.OPEN), None)
    open_items = list(open_package.items.all()) if open_package else []
    expected = packing.expected_weight(open_package) if open_package and open_items else None
    all_verified = all(row.complete for row in lines)
    can_complete = all_verified and not open_items
    override = _override_pending(request, open_package)
    # The one field a scanner (or a scale typing its reading) fills next.
    if override is not None:
        focus = "override"
    elif can_complete:
        focus = "complete"
    elif all_verified:
        focus = "weight"
    else:
        focus = "scan"
    return render(
        request,
        "fulfillment/packing_order.html",
        {
            "session": session,
            "order": session.order,
            "lines": lines,
            "packages": packages,
            "open_package": open_package,
            "open_items": open_items,
            "expected_weight": expected,
            "tolerance": packing.weight_tolerance(expected) if expected is not None else None,
            "package_types": list(package_type_list()),
            "override": override,
            "may_override": _user(request).has_perm(OVERRIDE),
            "all_verified": all_verified,
            "can_complete": can_complete,
            "focus": focus,
            "scan_focus": focus == "scan",
        },
    )


@require_POST
@staff_permission(PACK)
def packing_box(request: HttpRequest, order_number: str) -> HttpResponse:
    form = forms.PackageOpenForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, "fulfillment:packing-order", order_number)
    try:
        package = packing.package_open(
            actor=_actor(request), order_number=order_number, package_type=form.cleaned_data["package_type"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Package {package.sequence} is a {package.package_type.name}: scan the units into it."
        )
    return redirect("fulfillment:packing-order", order_number)


@require_POST
@staff_permission(PACK)
def packing_scan(request: HttpRequest, order_number: str) -> HttpResponse:
    form = forms.ScanForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, "fulfillment:packing-order", order_number)
    try:
        result = packing.pack_scan(
            actor=_actor(request),
            order_number=order_number,
            code=form.cleaned_data["code"],
            quantity=form.cleaned_data["quantity"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("fulfillment:packing-order", order_number)


def _override_address(order_number: str, sequence: int, weight_grams: int) -> str:
    query = urlencode({"override": sequence, "weight": weight_grams})
    return f"{reverse('fulfillment:packing-order', args=[order_number])}?{query}"


@require_POST
@staff_permission(PACK)
def packing_weigh(request: HttpRequest, order_number: str) -> HttpResponse:
    """Weighs and closes a box. Outside the tolerance the page asks for a supervisor's
    approval: their user name and password are checked here, the service checks their right."""
    form = forms.WeighForm(request.POST)
    if not form.is_valid():
        if (
            form.cleaned_data.get("override")
            and "sequence" in form.cleaned_data
            and "weight_grams" in form.cleaned_data
        ):
            messages.error(request, forms.first_error(form))
            return redirect(
                _override_address(order_number, form.cleaned_data["sequence"], form.cleaned_data["weight_grams"])
            )
        return _invalid(request, form, "fulfillment:packing-order", order_number)
    data = form.cleaned_data
    sequence, weight = data["sequence"], data["weight_grams"]
    override: packing.Override | None = None
    if data["override"]:
        user = _user(request)
        if not data["supervisor"] and user.has_perm(OVERRIDE):
            supervisor: Any = user
        else:
            supervisor = authenticate(request, username=data["supervisor"], password=data["password"])
            if supervisor is None:
                messages.error(
                    request,
                    "That supervisor user name and password do not match. Ask the supervisor to type them again.",
                )
                return redirect(_override_address(order_number, sequence, weight))
        override = packing.Override(supervisor=supervisor, reason=data["reason"])
    try:
        package = packing.package_close(
            actor=_actor(request), order_number=order_number, sequence=sequence, weight_grams=weight, override=override
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.code == FulfillmentErrorCode.WEIGHT_OUT_OF_TOLERANCE or override is not None:
            return redirect(_override_address(order_number, sequence, weight))
        return redirect("fulfillment:packing-order", order_number)
    approved = f" Weight approved by {package.weight_override_by}." if package.weight_override_by else ""
    messages.success(request, f"Package {package.sequence} is closed at {package.weight_grams} g.{approved}")
    return redirect("fulfillment:packing-order", order_number)


@require_POST
@staff_permission(PACK)
def packing_finish(request: HttpRequest, order_number: str) -> HttpResponse:
    try:
        order = packing.packing_complete(actor=_actor(request), order_number=order_number)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:packing-order", order_number)
    messages.success(request, f"Order {order.number} packed. Scan the next order or tote.")
    return redirect("fulfillment:packing")


@require_GET
@staff_permission(PACK)
def packing_slip_pdf(request: HttpRequest, order_number: str) -> HttpResponse:
    try:
        return _pdf(documents.packing_slip_pdf(order_number), f"{order_number}.pdf")
    except NotFound as exc:
        raise Http404(exc.message) from None
