"""The packing station: open an order by tote, boxes, unit scans, weights, overrides, completing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import authenticate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fulfillment import documents, forms
from fulfillment.enums import OVERRIDE, PACK, FulfillmentErrorCode, PackageStatus
from fulfillment.models import Package, PackingStation
from fulfillment.selectors import (
    package_type_list,
    packing_detail,
)
from fulfillment.services import packing
from fulfillment.views.common import (
    STATION_SESSION_KEY,
    pdf_response,
    redirect_invalid,
    request_actor,
    request_user,
    staff_permission,
)
from oms.common.errors import ApplicationError, NotFound
from oms.common.throttling import attempt_allowed
from orders.models import OrderLine


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
        return redirect_invalid(request, form, "fulfillment:packing")
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
        return redirect_invalid(request, form, "fulfillment:packing")
    try:
        session = packing.packing_open(
            actor=request_actor(request), code=form.cleaned_data["code"], station=_station(request)
        )
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
            "may_override": request_user(request).has_perm(OVERRIDE),
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
        return redirect_invalid(request, form, "fulfillment:packing-order", order_number)
    try:
        package = packing.package_open(
            actor=request_actor(request), order_number=order_number, package_type=form.cleaned_data["package_type"]
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
        return redirect_invalid(request, form, "fulfillment:packing-order", order_number)
    try:
        result = packing.pack_scan(
            actor=request_actor(request),
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
        return redirect_invalid(request, form, "fulfillment:packing-order", order_number)
    data = form.cleaned_data
    sequence, weight = data["sequence"], data["weight_grams"]
    override: packing.Override | None = None
    if data["override"]:
        user = request_user(request)
        if not data["supervisor"] and user.has_perm(OVERRIDE):
            supervisor: Any = user
        else:
            if not attempt_allowed(request, "supervisor_override"):
                messages.error(
                    request, "Too many supervisor password attempts from this station. Wait a minute and try again."
                )
                return redirect(_override_address(order_number, sequence, weight))
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
            actor=request_actor(request),
            order_number=order_number,
            sequence=sequence,
            weight_grams=weight,
            override=override,
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
        order = packing.packing_complete(actor=request_actor(request), order_number=order_number)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("fulfillment:packing-order", order_number)
    messages.success(
        request,
        f"Order {order.number} packed; its labels are being made (print them under Labels). "
        "Scan the next order or tote.",
    )
    return redirect("fulfillment:packing")


@require_GET
@staff_permission(PACK)
def packing_slip_pdf(request: HttpRequest, order_number: str) -> HttpResponse:
    try:
        return pdf_response(documents.packing_slip_pdf(order_number), f"{order_number}.pdf")
    except NotFound as exc:
        raise Http404(exc.message) from None
