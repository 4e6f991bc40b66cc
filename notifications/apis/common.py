"""What the webhook endpoints share: documented error answers and whose rows a caller sees."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework.request import Request

from oms.common.api_errors import ErrorSerializer
from oms.common.models import ApiClient
from oms.common.pagination import DefaultCursorPagination


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


AUTH_ERRORS = {
    401: error(
        "No credentials, or the key or token is invalid, expired or revoked (`not_authenticated`, "
        "`authentication_failed`)."
    ),
    403: error("The caller's role does not allow this (`permission_denied`)."),
}
INVALID_FILTER = {400: error("A filter has an invalid value (`invalid`); `fields` names it.")}


def own_api_client_id(request: Request) -> int | None:
    """An API client sees only the subscriptions it made (and their deliveries); staff, with
    a session or a personal token, see every one."""
    client = getattr(request, "auth", None)
    return client.pk if isinstance(client, ApiClient) else None


class OldestFirstPagination(DefaultCursorPagination):
    ordering = "id"


class NewestFirstPagination(DefaultCursorPagination):
    ordering = "-id"
