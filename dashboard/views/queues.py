"""Queue pages (one per stage of an order), the staff search, and the bulk actions on the
orders ticked on a queue page.

A bulk action answers with a summary on the queue page it came from (kept in the session for
one view, so a reload does not repeat the action): how many orders were done, and each one
that was not with why. Printing 50 orders or fewer answers with the file itself; more go to
a background job whose progress page the user is sent to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard.enums import JobKind
from dashboard.selectors.home import shop_today
from dashboard.selectors.queues import (
    SORTS,
    STAGES,
    QueueFilters,
    Stage,
    order_search,
    queue_page,
    shipping_method_choices,
    valid_sort,
    warehouse_choices,
)
from dashboard.services import bulk
from dashboard.services.jobs import bulk_job_start
from dashboard.views.common import request_actor, staff_permission
from fulfillment.enums import PICK
from oms.common.errors import ApplicationError, Forbidden
from orders.enums import OrderStatus, SalesChannel
from shipping.enums import MANAGE_LABELS, LabelFormat

VIEW_ORDER = "orders.view_order"
RESULT_SESSION_KEY = "dashboard_bulk_result"
LATE_STATUSES = (OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED)  # not handed over yet
MAX_PAGE = 10_000  # 500,000 rows deep: past that, narrow the filters instead


@dataclass(frozen=True)
class BulkAction:
    label: str  # what the summary calls it
    perm: str  # checked by the server, whatever the page showed
    job: str = ""  # the background job for runs over bulk.SYNC_PRINT_LIMIT orders


ACTIONS: dict[str, BulkAction] = {
    "pick_list": BulkAction("Start a pick list", PICK),
    "print_labels": BulkAction("Print labels", MANAGE_LABELS, JobKind.PRINT_LABELS),
    # A packing slip shows only what an order viewer already sees (as the background job says).
    "packing_slips": BulkAction("Print packing slips", VIEW_ORDER, JobKind.PACKING_SLIPS),
    "cancel": BulkAction("Cancel", "orders.cancel_order"),
}


# --- forms ----------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    channel = forms.ChoiceField(required=False, label="Channel")
    shipping_method = forms.ChoiceField(required=False, label="Shipping method")
    warehouse = forms.TypedChoiceField(required=False, label="Warehouse", coerce=int, empty_value=None)
    created_from = forms.DateField(required=False, label="Placed from", widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, label="Placed until", widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(required=False, label="Sort by")

    def __init__(self, data: QueryDict, *, stage: Stage, methods: list[tuple[str, str]], warehouses: list[Any]):
        super().__init__(data)
        self.stage = stage
        self._choices("channel", [("", "Any channel"), *SalesChannel.choices])
        self._choices("shipping_method", [("", "Any method"), *methods])
        if stage.by_warehouse:
            self._choices("warehouse", [("", "Any warehouse"), *warehouses])
        else:
            del self.fields["warehouse"]
        sorts: list[tuple[str, str]] = []
        for key, (_column, ascending, descending) in SORTS.items():
            sorts += [(key, ascending), (f"-{key}", descending)]
        self._choices("sort", sorts)
        self.fields["sort"].initial = stage.default_sort

    def _choices(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", "The end date is before the start date.")
        return data

    def filters(self) -> QueueFilters:
        """The filters from the fields that are valid; a broken one is shown and ignored."""
        self.is_valid()
        data = self.cleaned_data
        return QueueFilters(
            channel=data.get("channel") or "",
            shipping_method=data.get("shipping_method") or "",
            warehouse_id=data.get("warehouse"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to") if "created_to" not in self.errors else None,
            sort=valid_sort(self.stage, data.get("sort") or ""),
        )


class OrderNumbersField(forms.Field):
    """The ticked checkboxes: several values of one name."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[str]:
        values = value if isinstance(value, list | tuple) else []
        return [str(v) for v in values]


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(key, a.label) for key, a in ACTIONS.items()],
        error_messages={"required": "Choose what to do with the selected orders."},
    )
    orders = OrderNumbersField(required=False)
    reason = forms.CharField(required=False, max_length=255, strip=True)
    format = forms.ChoiceField(choices=LabelFormat.choices, required=False)
    query = forms.CharField(required=False, max_length=2000)


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True, label="Search orders")


# --- pages ----------------------------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def _filter_query(data: QueryDict, form: forms.Form) -> str:
    """The filter part of a queue address (no page), to carry into page links and back from
    a bulk action."""
    return urlencode([(name, data[name]) for name in form.fields if data.get(name)])


def _row_context() -> dict[str, Any]:
    """What the order rows compare against: the age and the late mark."""
    now = timezone.now()
    return {"now": now, "today": shop_today(now), "late_statuses": LATE_STATUSES}


def _unknown_stage(request: HttpRequest, stage: str) -> HttpResponse:
    return render(request, "dashboard/queues/unknown.html", {"stage": stage, "stages": STAGES.values()}, status=404)


@require_GET
@staff_permission(VIEW_ORDER)
def queue(request: HttpRequest, stage: str) -> HttpResponse:
    """One stage's orders, filtered, sorted, 50 a page, with a checkbox each for the bulk
    actions the user may take."""
    info = STAGES.get(stage)
    if info is None:
        return _unknown_stage(request, stage)
    form = QueueFilterForm(
        request.GET,
        stage=info,
        methods=shipping_method_choices(),
        warehouses=warehouse_choices() if info.by_warehouse else [],
    )
    filters = form.filters()
    rows = _row_context()
    page = queue_page(stage=info, filters=filters, page=_page_number(request.GET.get("page")), today=rows["today"])
    query = _filter_query(request.GET, form)
    user = request.user
    return render(
        request,
        "dashboard/queues/queue.html",
        {
            "stage": info,
            "stages": STAGES.values(),
            "form": form,
            "page": page,
            "query": query,
            "filtered": any(request.GET.get(name) for name in form.fields),
            "sort": filters.sort,
            **rows,
            "result": request.session.pop(RESULT_SESSION_KEY, None),
            "actions": {key: user.has_perm(a.perm) for key, a in ACTIONS.items()},
            "label_formats": LabelFormat.choices,
            "sync_limit": bulk.SYNC_PRINT_LIMIT,
        },
    )


def _back(stage: str, query: str) -> str:
    """The queue page a bulk action came from, with its filters; nothing else is carried."""
    url = reverse("dashboard:queue", args=[stage])
    data = QueryDict(query)
    kept = [(name, data[name]) for name in (*QueueFilterForm.base_fields, "page") if data.get(name)]
    return f"{url}?{urlencode(kept)}" if kept else url


def _remember(request: HttpRequest, action: BulkAction, result: bulk.BulkResult) -> None:
    request.session[RESULT_SESSION_KEY] = {"action": action.label, **result.as_dict()}


def _file(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@staff_permission(VIEW_ORDER)
def queue_bulk(request: HttpRequest, stage: str) -> HttpResponse:
    """Runs one bulk action on the ticked orders. The user's role is checked for the action
    itself (403 otherwise, nothing done); each order then goes through its own service call."""
    if stage not in STAGES:
        return _unknown_stage(request, stage)
    form = BulkActionForm(request.POST)
    back = _back(stage, str(request.POST.get("query") or ""))
    if not form.is_valid():
        messages.error(request, str(next(iter(form.errors.values()))[0]))
        return redirect(back)
    key = form.cleaned_data["action"]
    action = ACTIONS[key]
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm(action.perm):
        raise PermissionDenied(f"Your role may not do this: {action.label.lower()}.")
    numbers: list[str] = form.cleaned_data["orders"]
    actor = request_actor(request)
    try:
        if action.job and len(bulk.selected_numbers(numbers)) > bulk.SYNC_PRINT_LIMIT:
            params: dict[str, Any] = {"orders": bulk.selected_numbers(numbers)}
            if key == "print_labels":
                params["format"] = form.cleaned_data["format"] or ""
            job = bulk_job_start(actor=actor, user=user, kind=action.job, params=params)
            messages.success(
                request, f"{len(params['orders'])} orders are being printed in the background: this page shows how far."
            )
            return redirect("dashboard:job", job.pk)
        if key == "cancel":
            result = bulk.bulk_cancel(actor=actor, numbers=numbers, reason=form.cleaned_data["reason"])
        elif key == "pick_list":
            result = bulk.bulk_pick_list(actor=actor, picker=user, numbers=numbers)
        elif key == "print_labels":
            document, result = bulk.bulk_print_labels(actor=actor, numbers=numbers, fmt=form.cleaned_data["format"])
            _remember(request, action, result)
            if document is None:
                return redirect(back)
            return _file(document.content, document.content_type, document.filename)
        else:
            pdf, result = bulk.bulk_packing_slips(numbers=numbers)
            _remember(request, action, result)
            if pdf is None:
                return redirect(back)
            return _file(pdf, "application/pdf", "packing-slips.pdf")
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    _remember(request, action, result)
    return redirect(back)


@require_GET
@staff_permission(VIEW_ORDER)
def search(request: HttpRequest) -> HttpResponse:
    """Find orders by number, customer name or email, tracking number or SKU; one order found
    by its number or tracking number opens straight away."""
    form = SearchForm(request.GET)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    result = order_search(query=text)
    if result.open_order:
        return redirect("dashboard:order", result.open_order)
    return render(request, "dashboard/queues/search.html", {"form": form, "result": result, **_row_context()})
