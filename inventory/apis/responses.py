"""Error answers the inventory endpoints document in the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from oms.common.api_errors import ErrorSerializer


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


AUTH_ERRORS = {
    401: error("No API key, or the key is invalid or revoked (`not_authenticated`, `authentication_failed`)."),
    403: error("The caller's role does not allow this (`permission_denied`)."),
}
INVALID = {400: error("Invalid input: `fields` names every bad field (dotted path) with the reason.")}
INVALID_FILTER = {400: error("A filter has an invalid value (`invalid`); `fields` names it.")}
NOT_ALLOWED = {405: error("The method is not allowed here (`method_not_allowed`).")}
