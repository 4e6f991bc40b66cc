"""What the picker and packer screens share: permission checks, the actor, form errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect

from fulfillment import forms
from fulfillment.enums import EntryState
from fulfillment.models import PickList
from oms.common.actors import Actor

STATION_SESSION_KEY = "fulfillment_packing_station"

View = Callable[..., HttpResponse]


def staff_permission(perm: str) -> Callable[[View], View]:
    """Anonymous visitors go to the log-in; signed-in users without ``perm`` get 403."""

    def decorate(view: View) -> View:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


def request_user(request: HttpRequest) -> User:
    return cast(User, request.user)


def request_actor(request: HttpRequest) -> Actor:
    return Actor.for_request(request)


def redirect_invalid(request: HttpRequest, form: forms.forms.Form, to: str, *args: Any) -> HttpResponseRedirect:
    messages.error(request, forms.first_error(form))
    return redirect(to, *args)


# --- picking --------------------------------------------------------------------------------


def with_order_count(lists: Any) -> list[PickList]:
    return list(lists.annotate(order_count=Count("entries", filter=~Q(entries__state=EntryState.REMOVED))))


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
