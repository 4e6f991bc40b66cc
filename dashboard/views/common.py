"""What every dashboard page shares: the permission check, the actor behind a request, and
how an action form is confirmed, run and answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dashboard.forms import first_error
from oms.common.actors import Actor
from oms.common.errors import ApplicationError

View = Callable[..., HttpResponse]


def staff_permission(perm: str) -> Callable[[View], View]:
    """Anonymous visitors go to the log-in; signed-in users without ``perm`` get 403, so the
    server refuses what a role may not do whatever the page shows."""

    def decorate(view: View) -> View:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


def request_actor(request: HttpRequest) -> Actor:
    """The staff user (or API client) to record in audit rows for this request."""
    return Actor.for_request(request)


def act(
    request: HttpRequest,
    form: forms.Form,
    run: Callable[[dict[str, Any]], str],
    *,
    back: tuple[str, str],
    confirm: str = "",
    say: Callable[[ApplicationError], str] = lambda exc: exc.message,
) -> HttpResponse:
    """One action form of a page (an order's, a return's): validates ``form``; with
    ``confirm`` (a sentence saying what cannot be undone) and no confirmation yet, shows the
    confirmation page; otherwise runs the service and goes back to the page, ``back`` =
    (URL name, number), with its outcome. A refusal leaves everything as it was and says why
    (``say``)."""
    url_name, number = back
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(url_name, number=number)
    if confirm and request.POST.get("confirmed") != "yes":
        context = {"form": form, "question": confirm, "action_url": request.path, "number": number, "back": back}
        return render(request, "dashboard/confirm.html", context)
    try:
        done = run(form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, say(exc))
    else:
        messages.success(request, done)
    return redirect(url_name, number=number)
