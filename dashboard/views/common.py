"""What every dashboard page shares: the permission check and the actor behind a request."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse

from oms.common.actors import Actor

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
