"""The exception inbox at /staff/exceptions/: every open problem with an order in one list,
oldest first, each with its age, its owner, and a link to where it is fixed; a "Resolved"
tab shows who closed what and how.

Everyone with a staff role sees the inbox; support, shippers and managers take, release and
resolve incidents (``dashboard.work_incident``). The server refuses the others whatever the
page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from dashboard.selectors import incidents as selectors
from dashboard.services import incidents as services
from dashboard.views.common import staff_permission
from oms.common.errors import ApplicationError

VIEW_INCIDENT = "dashboard.view_incident"
WORK_INCIDENT = services.WORK_INCIDENT
PER_PAGE = 50
TAB_OPEN = "open"
TAB_RESOLVED = "resolved"
FILTER_NAMES = ("tab", "kind", "owner", "q", "page")

# Where each kind of problem is fixed: the labels screen of the order for a refused label
# (Retry is there), the order page for everything else (payments, split, tracking, timeline).
FIX_HERE: dict[str, tuple[str, str]] = {
    IncidentKind.PAYMENT_MISMATCH: ("Record a payment or refund", "dashboard:order"),
    IncidentKind.STOCK_SHORTAGE: ("Split off the lines in stock", "dashboard:order"),
    IncidentKind.SHORT_PICK: ("Check the order", "dashboard:order"),
    IncidentKind.WEIGHT_OVERRIDE: ("Check the order", "dashboard:order"),
    IncidentKind.LABEL_FAILED: ("Retry the label", "shipping:labels-order"),
    IncidentKind.TRACKING_EXCEPTION: ("See the tracking", "dashboard:order"),
    IncidentKind.STALE_SHIPMENT: ("See the tracking", "dashboard:order"),
    IncidentKind.LATE_ORDER: ("See the order", "dashboard:order"),
    IncidentKind.REFUND_DUE: ("Record the refund", "dashboard:order"),
}


class InboxFilter(forms.Form):
    tab = forms.ChoiceField(choices=[(TAB_OPEN, "Open"), (TAB_RESOLVED, "Resolved")], required=False)
    kind = forms.ChoiceField(choices=[("", "Every kind"), *IncidentKind.choices], required=False)
    owner = forms.ChoiceField(
        choices=[("", "Anyone"), (selectors.OWNER_MINE, "Mine"), (selectors.OWNER_UNOWNED, "Nobody yet")],
        required=False,
    )
    q = forms.CharField(required=False, max_length=32, strip=True)


@dataclass(frozen=True)
class Row:
    """One incident as the list shows it."""

    incident: Incident
    age: str
    order_url: str
    fix_label: str
    fix_url: str
    mine: bool
    owner_name: str


def _row(incident: Incident, user: User, now: datetime) -> Row:
    number = incident.order.number if incident.order is not None else ""
    label, url_name = FIX_HERE.get(incident.kind, ("See the order", "dashboard:order"))
    return Row(
        incident=incident,
        age=selectors.age_label(incident.raised_at, incident.resolved_at or now),
        order_url=reverse("dashboard:order", args=[number]) if number else "",
        fix_label=label,
        fix_url=reverse(url_name, args=[number]) if number else "",
        mine=incident.owner_id == user.pk,
        owner_name=incident.owner.get_username() if incident.owner is not None else "",
    )


@require_GET
@staff_permission(VIEW_INCIDENT)
def incident_inbox(request: HttpRequest) -> HttpResponse:
    """Open incidents oldest first (or the resolved ones, latest first), fifty a page."""
    form = InboxFilter(request.GET)
    if form.is_valid():
        filters = form.cleaned_data
    else:
        # Only a hand-edited address gets here: say so, and show everything open.
        messages.warning(request, "That filter is not one of the choices: showing every open incident.")
        filters = {}
        form = InboxFilter()
    resolved = filters.get("tab") == TAB_RESOLVED
    user = request.user
    incidents = selectors.incident_list(
        resolved=resolved,
        kind=filters.get("kind") or None,
        owner=filters.get("owner") or None,
        user=user,  # type: ignore[arg-type]
        order_number=filters.get("q") or None,
    )
    page = Paginator(incidents, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    counts = selectors.incident_open_counts()
    return render(
        request,
        "dashboard/incidents/list.html",
        {
            "form": form,
            "page": page,
            "rows": [_row(incident, user, now) for incident in page.object_list],  # type: ignore[arg-type]
            "resolved": resolved,
            "filtered": any(filters.get(name) for name in ("kind", "owner", "q")),
            "open_total": sum(counts.values()),
            "kinds": [(value, label, counts.get(value, 0)) for value, label in IncidentKind.choices],
            "may_work": user.has_perm(WORK_INCIDENT),
            "back": request.GET.urlencode(),
        },
    )


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """To the inbox as the user left it: only the inbox's own filters are carried over."""
    kept = QueryDict(request.POST.get("back", ""))
    query = urlencode([(name, kept[name]) for name in FILTER_NAMES if kept.get(name)])
    return redirect(reverse("dashboard:incidents") + (f"?{query}" if query else ""))


# Each kind as the thing staff took or resolved: "The payment mismatch on order X is yours now."
_NOUNS = {
    IncidentKind.PAYMENT_MISMATCH: "payment mismatch",
    IncidentKind.STOCK_SHORTAGE: "stock shortage",
    IncidentKind.SHORT_PICK: "short pick",
    IncidentKind.WEIGHT_OVERRIDE: "weight override",
    IncidentKind.LABEL_FAILED: "label failure",
    IncidentKind.TRACKING_EXCEPTION: "delivery problem",
    IncidentKind.STALE_SHIPMENT: "shipment without tracking news",
    IncidentKind.LATE_ORDER: "late order",
    IncidentKind.REFUND_DUE: "refund due",
}


def _said(incident: Incident) -> str:
    kind = _NOUNS.get(IncidentKind(incident.kind), IncidentKind(incident.kind).label.lower())
    return f"{kind} on order {incident.order.number}" if incident.order is not None else kind


@require_POST
@staff_permission(WORK_INCIDENT)
def incident_take(request: HttpRequest, incident_id: int) -> HttpResponse:
    take_over = request.POST.get("take_over") == "1"
    try:
        incident = services.incident_take(
            user=request.user,  # type: ignore[arg-type]
            incident_id=incident_id,
            take_over=take_over,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The {_said(incident)} is yours now.")
    return _back(request)


@require_POST
@staff_permission(WORK_INCIDENT)
def incident_release(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        incident = services.incident_release(user=request.user, incident_id=incident_id)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The {_said(incident)} is back in the inbox for anyone to take.")
    return _back(request)


@require_POST
@staff_permission(WORK_INCIDENT)
def incident_resolve(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        incident = services.incident_resolve(
            user=request.user,  # type: ignore[arg-type]
            incident_id=incident_id,
            note=request.POST.get("note", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The {_said(incident)} is resolved.")
    return _back(request)
