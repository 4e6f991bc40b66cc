"""The hand-over screen at the dock: choose the carrier whose driver has come, scan the
parcels out onto its manifest, see which parcels are past their cut-off and still here,
close the manifest and print it for the driver to sign.

Everyone who may see manifests sees the screens; scanning, taking a parcel off, opening and
closing need the hand-over permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from fulfillment.forms import first_error
from fulfillment.views.common import pdf_response, request_actor, request_user, staff_permission
from oms.common.errors import ApplicationError, NotFound
from shipping import documents, selectors_handover
from shipping.enums import HAND_OVER
from shipping.models import Carrier
from shipping.selectors_handover import VIEW_MANIFESTS, WaitingParcel
from shipping.services import handover


class CarrierForm(forms.Form):
    carrier = forms.CharField(max_length=32, error_messages={"required": "Choose the carrier whose driver has come."})


class ParcelForm(forms.Form):
    code = forms.CharField(
        max_length=100,
        strip=True,
        error_messages={
            "required": "Scan the parcel's label, or type the tracking number under its barcode.",
            "max_length": "That is longer than any tracking number: scan the parcel's label again.",
        },
    )


def duration(span: timedelta) -> str:
    """A span as people say it at the dock: "2 h 05 min", "12 min", "3 d 4 h"."""
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@dataclass(frozen=True)
class WaitingRow:
    parcel: WaitingParcel

    @property
    def when(self) -> str:
        """Late by how long, or the time left to the cut-off."""
        if self.parcel.overdue:
            return f"late by {duration(self.parcel.overdue_by)}"
        return f"{duration(self.parcel.time_left)} left"


def _carriers() -> list[Carrier]:
    return list(Carrier.objects.filter(is_active=True).order_by("name", "code"))


@require_GET
@staff_permission(VIEW_MANIFESTS)
def handover_home(request: HttpRequest) -> HttpResponse:
    """The carriers to open a manifest for, the manifests open now, parcels past their cut-off
    and the latest closed manifests."""
    return render(
        request,
        "shipping/handover_home.html",
        {
            "carriers": _carriers(),
            "open_manifests": selectors_handover.open_manifests(),
            "closed_manifests": selectors_handover.recent_closed_manifests(),
            "overdue": [WaitingRow(p) for p in selectors_handover.unscanned_after_cutoff(now=timezone.now())],
            "may_hand_over": request_user(request).has_perm(HAND_OVER),
            "today": timezone.localdate(),
        },
    )


@require_POST
@staff_permission(HAND_OVER)
def handover_open(request: HttpRequest) -> HttpResponse:
    form = CarrierForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shipping:handover")
    try:
        manifest, created = handover.manifest_open(
            actor=request_actor(request), carrier_code=form.cleaned_data["carrier"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("shipping:handover")
    if created:
        messages.success(
            request,
            f"Manifest {manifest.number} for {manifest.carrier.name}, pickup {manifest.pickup_date:%Y-%m-%d}: "
            "scan the parcels.",
        )
    else:
        messages.info(request, f"Manifest {manifest.number} for {manifest.carrier.name} is open: carry on scanning.")
    return redirect("shipping:manifest", manifest.number)


@require_GET
@staff_permission(VIEW_MANIFESTS)
def manifest_page(request: HttpRequest, number: str) -> HttpResponse:
    """One manifest: the scan box while it is open, its parcels, and the carrier's parcels
    still at the dock, those past their cut-off first."""
    try:
        detail = selectors_handover.manifest_detail(number=number)
    except NotFound as exc:
        messages.error(request, exc.message)
        return redirect("shipping:handover")
    if detail.number != number:
        return redirect("shipping:manifest", detail.number)
    waiting = (
        selectors_handover.parcels_waiting_for_pickup(now=timezone.now(), carrier=detail.carrier.code)
        if detail.is_open
        else []
    )
    context: dict[str, Any] = {
        "manifest": detail,
        "parcels": detail.parcels,
        "weight": documents.kilograms(detail.weight_grams),
        "waiting": [WaitingRow(p) for p in waiting],
        "overdue_count": sum(1 for p in waiting if p.overdue),
        "may_hand_over": request_user(request).has_perm(HAND_OVER),
    }
    return render(request, "shipping/handover_manifest.html", context)


def _parcel_action(request: HttpRequest, number: str, service: Any) -> HttpResponse:
    form = ParcelForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shipping:manifest", number)
    try:
        result = service(actor=request_actor(request), manifest_number=number, code=form.cleaned_data["code"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, result.message)
    return redirect("shipping:manifest", number)


@require_POST
@staff_permission(HAND_OVER)
def manifest_scan(request: HttpRequest, number: str) -> HttpResponse:
    return _parcel_action(request, number, handover.parcel_scan_out)


@require_POST
@staff_permission(HAND_OVER)
def manifest_unscan(request: HttpRequest, number: str) -> HttpResponse:
    return _parcel_action(request, number, handover.parcel_unscan)


@require_POST
@staff_permission(HAND_OVER)
def manifest_close(request: HttpRequest, number: str) -> HttpResponse:
    try:
        closed = handover.manifest_close(actor=request_actor(request), manifest_number=number)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("shipping:manifest", number)
    (messages.warning if closed.incomplete else messages.success)(request, closed.message)
    return redirect("shipping:manifest", closed.manifest.number)


@require_GET
@staff_permission(VIEW_MANIFESTS)
def manifest_pdf(request: HttpRequest, number: str) -> HttpResponse:
    try:
        name = selectors_handover.normalise_manifest_number(number)
        return pdf_response(documents.manifest_pdf(name), f"{name}.pdf")
    except NotFound as exc:
        raise Http404(exc.message) from None
