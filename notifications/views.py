"""Staff pages of notifications: every email the system prepared, filtered by state, kind,
order or address, with failed ones a click away; one order's emails; one email as the
customer got it, resent on request; and every template previewed with sample data.

Support and managers see the pages and may resend. The stored HTML of an email (and of a
preview) is shown in a sandboxed frame from its own address, answered with a Content
Security Policy that lets it run nothing and load nothing but images and inline styles: a
customer's name or an order note inside an email never runs as script in a staff session.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from notifications import selectors
from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from notifications.previews import PREVIEW_KINDS, preview
from notifications.services.emails import notification_resend
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, NotFound

VIEW = "notifications.view_notification"
RESEND = "notifications.resend_notification"
PREVIEW = "notifications.preview_notification"
PER_PAGE = 50

# An email's HTML may show images and its own inline styles; no script, form, frame or fetch.
EMAIL_CSP = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'"

View = Callable[..., HttpResponse]


def staff_permission(perm: str) -> Callable[[View], View]:
    """Anonymous visitors go to the log-in; signed-in users without ``perm`` get 403. Written
    out here, as in the orders pages, because notifications may not import fulfillment."""

    def decorate(view: View) -> View:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


def _not_found(request: HttpRequest, heading: str, message: str) -> HttpResponse:
    return render(request, "notifications/staff/not_found.html", {"heading": heading, "message": message}, status=404)


def _email_html(html: str) -> HttpResponse:
    """Stored email HTML for the sandboxed frame of a staff page (same origin only)."""
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = EMAIL_CSP
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- the list -------------------------------------------------------------------------------


class ListFilter(forms.Form):
    state = forms.ChoiceField(choices=[("", "Any state"), *NotificationState.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *NotificationKind.choices], required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)


@require_GET
@staff_permission(VIEW)
def notification_list(request: HttpRequest) -> HttpResponse:
    """Newest first, fifty a page; the "Failed" link counts the emails that never went."""
    form = ListFilter(request.GET)
    if form.is_valid():
        filters = form.cleaned_data
    else:
        # Only a hand-edited address gets here: say so, and show everything.
        messages.warning(request, "That filter is not one of the choices: showing every notification.")
        filters = {}
        form = ListFilter()
    notifications = selectors.notification_list(
        state=filters.get("state") or None, kind=filters.get("kind") or None, q=filters.get("q") or None
    )
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/staff/list.html",
        {
            "form": form,
            "page": page,
            "state": filters.get("state") or "",
            "filtered": any(filters.get(name) for name in ("state", "kind", "q")),
            "failed_count": selectors.notifications_undelivered_count(),
        },
    )


@require_GET
@staff_permission(VIEW)
def order_notifications(request: HttpRequest, number: str) -> HttpResponse:
    """Everything one order's customer (and staff, about it) was sent, newest first."""
    try:
        notifications = list(selectors.notifications_of_order(number))
    except NotFound as exc:
        return _not_found(request, f"No order {number}", exc.message)
    return render(request, "notifications/staff/order.html", {"number": number, "notifications": notifications})


# --- one notification -----------------------------------------------------------------------


@require_GET
@staff_permission(VIEW)
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = selectors.notification_detail(pk)
    except NotFound as exc:
        return _not_found(request, f"No notification {pk}", exc.message)
    return render(
        request,
        "notifications/staff/detail.html",
        {
            "notification": notification,
            "resends": list(notification.resends.all()),
            "pending": notification.state == NotificationState.PENDING,
        },
    )


@require_GET
@staff_permission(VIEW)
def notification_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part exactly as stored, for the frame on the detail page."""
    html = Notification.objects.filter(pk=pk).values_list("body_html", flat=True).first()
    if html is None:
        return _not_found(request, f"No notification {pk}", f"No notification {pk}: it may have been removed.")
    return _email_html(html)


@require_POST
@staff_permission(RESEND)
def notification_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Sends the email again as a new notification, then shows the new one."""
    try:
        copy = notification_resend(notification_id=pk, actor=Actor.for_request(request))
    except NotFound as exc:
        messages.error(request, exc.message)
        return redirect("notifications:list")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("notifications:detail", pk)
    messages.success(
        request,
        f"Resent: a new copy goes to {', '.join(copy.recipients)} within a minute. This page shows how it goes.",
    )
    return redirect("notifications:detail", copy.pk)


# --- previews -------------------------------------------------------------------------------


@require_GET
@staff_permission(PREVIEW)
def preview_list(request: HttpRequest) -> HttpResponse:
    kinds = [(kind, NotificationKind(kind).label) for kind in PREVIEW_KINDS]
    return render(request, "notifications/staff/previews.html", {"kinds": kinds})


@require_GET
@staff_permission(PREVIEW)
def preview_detail(request: HttpRequest, kind: str) -> HttpResponse:
    """One template rendered with sample data: subject, text, and HTML in a sandboxed frame."""
    try:
        rendered = preview(kind)
    except NotFound as exc:
        return _not_found(request, f"No email {kind}", exc.message)
    return render(
        request,
        "notifications/staff/preview.html",
        {"kind": kind, "label": NotificationKind(kind).label, "rendered": rendered},
    )


@require_GET
@staff_permission(PREVIEW)
def preview_html(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        rendered = preview(kind)
    except NotFound as exc:
        return _not_found(request, f"No email {kind}", exc.message)
    return _email_html(rendered.html)
