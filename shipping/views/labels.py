"""The labels screens: labels that failed or are still being made, with a Retry button; bulk
printing of many orders' labels as one file; one order's shipment with every label, voided
ones too, where a live label is printed again, voided, or voided and made again.

Everyone who may see labels sees the screens; retrying, printing and voiding need the right
to manage labels (packers, shippers, managers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fulfillment.forms import first_error
from fulfillment.views.common import request_actor, request_user, staff_permission
from oms.common.errors import ApplicationError, NotFound
from orders.models import Order
from shipping import selectors
from shipping.enums import MANAGE_LABELS, LabelFormat, LabelStatus
from shipping.models import Label
from shipping.services import labels as label_services

VIEW_LABELS = "shipping.view_label"
MAX_ORDERS = 500  # in one bulk print: a day's parcels at a busy dock


# --- forms ----------------------------------------------------------------------------------


def _numbers(text: str) -> list[str]:
    """Order numbers typed or scanned one after another: separated by spaces, commas,
    semicolons or new lines."""
    return [n for n in re.split(r"[\s,;]+", text) if n]


class OrderListField(forms.Field):
    """Order numbers sent as several values of one name (the ticked checkboxes)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[str]:
        values = value if isinstance(value, list | tuple) else []
        return [str(v).strip() for v in values if str(v).strip()]


class BulkPrintForm(forms.Form):
    orders = OrderListField(required=False)
    numbers = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea)
    format = forms.ChoiceField(choices=LabelFormat.choices, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        numbers = list(dict.fromkeys([*data.get("orders", []), *_numbers(str(data.get("numbers") or ""))]))
        if not numbers:
            raise forms.ValidationError("Tick the orders to print, or type their numbers in the box.")
        if len(numbers) > MAX_ORDERS:
            raise forms.ValidationError(f"Print at most {MAX_ORDERS} orders at once.")
        data["order_numbers"] = numbers
        return data


class VoidForm(forms.Form):
    reason = forms.CharField(
        max_length=255,
        strip=True,
        error_messages={
            "required": "Say why the label is voided (smudged, wrong box...), then void it again.",
            "max_length": "Keep the reason under 255 characters.",
        },
    )
    regenerate = forms.BooleanField(required=False)


class RetryForm(forms.Form):
    back = forms.ChoiceField(choices=[("home", "labels"), ("order", "order")], required=False)


class DocumentQuery(forms.Form):
    labels = forms.CharField(max_length=10_000)
    format = forms.ChoiceField(choices=LabelFormat.choices, required=False)

    def clean_labels(self) -> list[int]:
        text = self.cleaned_data["labels"]
        if not re.fullmatch(r"[0-9]+(,[0-9]+)*", text):
            raise forms.ValidationError("That print link is broken: choose the labels to print again.")
        return [int(pk) for pk in text.split(",")]


def _document_url(label_ids: list[int], fmt: str) -> str:
    query = urlencode({"labels": ",".join(str(pk) for pk in label_ids), "format": fmt})
    return f"{reverse('shipping:labels-document')}?{query}"


# --- the labels home ------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintReady:
    """The document chosen on the bulk print form, waiting to be downloaded."""

    url: str
    labels: int
    format: str


def _print_ready(request: HttpRequest) -> PrintReady | None:
    form = DocumentQuery(request.GET)
    if "labels" not in request.GET or not form.is_valid():
        return None
    fmt = form.cleaned_data["format"] or LabelFormat.PDF
    ids = form.cleaned_data["labels"]
    return PrintReady(url=_document_url(ids, fmt), labels=len(ids), format=LabelFormat(fmt).name)


@require_GET
@staff_permission(VIEW_LABELS)
def labels_home(request: HttpRequest) -> HttpResponse:
    """Labels to fix (failed first, then those still being made) and the bulk print form."""
    to_fix = selectors.labels_to_fix()
    return render(
        request,
        "shipping/labels_home.html",
        {
            "to_fix": to_fix,
            "failed_count": sum(1 for row in to_fix if row.failed),
            "printable": selectors.orders_to_print(),
            "print_ready": _print_ready(request),
            "may_manage": request_user(request).has_perm(MANAGE_LABELS),
        },
    )


@require_POST
@staff_permission(MANAGE_LABELS)
def labels_print(request: HttpRequest) -> HttpResponse:
    """Bulk print, step one: which labels the chosen orders have; the page then offers the one
    file to download, and names the orders that have no label to print."""
    form = BulkPrintForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shipping:labels")
    numbers = form.cleaned_data["order_numbers"]
    label_ids, without = label_services.live_labels_of_orders(numbers)
    if not label_ids:
        messages.error(
            request,
            f"Nothing to print: {_orders(without)} {'has' if len(without) == 1 else 'have'} no label yet. "
            "Check the order numbers, or look for them in the list above (still being made or failed).",
        )
        return redirect("shipping:labels")
    fmt = form.cleaned_data["format"] or LabelFormat.PDF
    orders = len(numbers) - len(without)
    messages.success(
        request,
        f"{len(label_ids)} label{'s' if len(label_ids) != 1 else ''} of {orders} order{'s' if orders != 1 else ''} "
        "ready: download the file and print it.",
    )
    if without:
        messages.warning(
            request,
            f"No label to print for {_orders(without)}: {'it is' if len(without) == 1 else 'they are'} not in the "
            "file. Check the numbers, or look for them in the list above.",
        )
    query = urlencode({"labels": ",".join(str(pk) for pk in label_ids), "format": fmt})
    return redirect(f"{reverse('shipping:labels')}?{query}#print-ready")


def _orders(numbers: list[str]) -> str:
    return ("order " if len(numbers) == 1 else "orders ") + ", ".join(numbers)


@require_GET
@staff_permission(MANAGE_LABELS)
def labels_document(request: HttpRequest) -> HttpResponse:
    """The file to print: one label or many, PDF or ZPL. Counts a print on each label."""
    form = DocumentQuery(request.GET)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shipping:labels")
    try:
        document = label_services.labels_print(
            actor=request_actor(request),
            label_ids=form.cleaned_data["labels"],
            fmt=form.cleaned_data["format"] or LabelFormat.PDF,
        )
    except ApplicationError as exc:
        messages.error(request, f"{exc.message} Open the order's labels to see where they stand.")
        return redirect("shipping:labels")
    extension = "zpl" if document.content_type == "application/zpl" else "pdf"
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="labels-{document.label_ids[0]}.{extension}"'
    return response


@require_POST
@staff_permission(MANAGE_LABELS)
def labels_retry(request: HttpRequest, order_number: str) -> HttpResponse:
    form = RetryForm(request.POST)
    back_to_order = form.is_valid() and form.cleaned_data["back"] == "order"
    try:
        retried = label_services.labels_retry(actor=request_actor(request), order_number=order_number)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        what = f"{len(retried)} failed label{'s' if len(retried) != 1 else ''}" if retried else "The labels"
        messages.success(
            request,
            f"{what} of {order_number} will be made again in a minute. Fix what the error said first (such as the "
            "warehouse address), or the label fails again.",
        )
    if back_to_order:
        return redirect("shipping:labels-order", order_number)
    return redirect("shipping:labels")


# --- one order ------------------------------------------------------------------------------


@dataclass
class PackageLabels:
    """One package of the order: its current label (requested, live or failed) and the ones
    voided before it, newest first."""

    sequence: int
    current: Label | None = None
    history: list[Label] = field(default_factory=list)

    @property
    def voidable(self) -> bool:
        """What the service allows voiding: a live or failed label not handed over yet."""
        label = self.current
        return (
            label is not None
            and label.status in (LabelStatus.LIVE, LabelStatus.FAILED)
            and label.scanned_out_at is None
        )


def _by_package(labels: list[Label]) -> list[PackageLabels]:
    packages: dict[int, PackageLabels] = {}
    for label in labels:
        row = packages.setdefault(label.package_id, PackageLabels(label.package.sequence))
        if label.status == LabelStatus.VOIDED:
            row.history.insert(0, label)
        else:
            row.current = label
    return sorted(packages.values(), key=lambda p: p.sequence)


@require_GET
@staff_permission(VIEW_LABELS)
def labels_order(request: HttpRequest, order_number: str) -> HttpResponse:
    """The order's shipment, each package with its current label and the voided ones."""
    try:
        shipment = selectors.shipment_detail(order_number=order_number)
    except NotFound:
        order = Order.objects.filter(number=order_number).first()
        if order is None:
            messages.error(request, f"No order has the number {order_number}. Check it and try again.")
            return redirect("shipping:labels")
        return render(request, "shipping/shipment.html", {"order": order, "shipment": None, "packages": []})
    packages = _by_package(list(shipment.labels.all()))
    live = [p.current.pk for p in packages if p.current and p.current.status == LabelStatus.LIVE]
    return render(
        request,
        "shipping/shipment.html",
        {
            "order": shipment.order,
            "shipment": shipment,
            "packages": packages,
            "events": list(shipment.events.all()),
            "may_manage": request_user(request).has_perm(MANAGE_LABELS),
            "needs_retry": any(p.current is None or p.current.status != LabelStatus.LIVE for p in packages),
            "print_all_pdf": _document_url(live, LabelFormat.PDF) if live else "",
            "print_all_zpl": _document_url(live, LabelFormat.ZPL) if live else "",
        },
    )


@require_POST
@staff_permission(MANAGE_LABELS)
def label_void(request: HttpRequest, label_id: int) -> HttpResponse:
    order_number = Label.objects.filter(pk=label_id).values_list("shipment__order__number", flat=True).first()
    if order_number is None:
        messages.error(request, f"No label {label_id}: it may have been removed. Open the order again.")
        return redirect("shipping:labels")
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("shipping:labels-order", order_number)
    regenerate = form.cleaned_data["regenerate"]
    try:
        label = label_services.label_void(
            actor=request_actor(request), label_id=label_id, reason=form.cleaned_data["reason"], regenerate=regenerate
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("shipping:labels-order", order_number)
    name = label.tracking_number or f"of package {label.package.sequence}"
    if regenerate:
        messages.success(
            request,
            f"Label {name} voided: throw it away. The new label for package {label.package.sequence} is being "
            "made; print it when it shows here.",
        )
    else:
        messages.success(
            request,
            f"Label {name} voided: throw it away. Package {label.package.sequence} has no label now; press "
            "Retry labels to make one.",
        )
    return redirect("shipping:labels-order", order_number)
