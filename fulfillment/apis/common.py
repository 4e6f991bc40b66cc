"""What the fulfillment endpoints share: the error answers they document in the OpenAPI
schema, the answer to a refused scan, and the caller. (Permission names: fulfillment.enums.)"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from oms.common.api_errors import ErrorSerializer


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


AUTH_ERRORS = {
    401: error_response(
        "No credentials, or the key or token is invalid, expired or revoked (`not_authenticated`, "
        "`authentication_failed`)."
    ),
    403: error_response("The caller's role does not allow this (`permission_denied`)."),
}
INVALID = {400: error_response("Invalid input (`invalid`): `fields` names every bad field with the reason.")}
INVALID_FILTER = {400: error_response("A filter has an invalid value (`invalid`); `fields` names it.")}


def refused_response(code: str, message: str, extra: dict[str, Any]) -> Response:
    """A refused scan, in the error body every other refusal has."""
    return Response({"code": code, "message": message, "extra": extra}, status=status.HTTP_409_CONFLICT)


def request_caller(request: Request) -> User:
    return cast(User, request.user)
