"""One error shape for the whole API: ``{"code", "message", "fields"?, "extra"?}``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from oms.common.errors import ApplicationError, InvalidInput


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turns DRF's nested error detail into ``{"lines.0.quantity": ["..."]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" and prefix else (f"{prefix}.{key}" if prefix else str(key))
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    for k, v in flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                        out.setdefault(k, []).extend(v)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _summary(fields: dict[str, list[str]]) -> str:
    parts = [f"{name}: {messages[0].rstrip('.')}" for name, messages in fields.items()]
    shown = "; ".join(parts[:5])
    more = f" (and {len(parts) - 5} more)" if len(parts) > 5 else ""
    return f"The request has invalid fields. {shown}{more}."


CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "malformed_request",
    exceptions.Throttled: "throttled",
}

MESSAGES = {
    "not_authenticated": "Authentication required: send 'Authorization: Bearer <key>'.",
    "permission_denied": "Your account is not allowed to do this; ask a manager for the role that grants it.",
    "not_found": "Nothing exists at this address; check the order number or SKU.",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InvalidInput):
        return Response(
            {"code": exc.code, "message": exc.message, "fields": exc.fields, "extra": exc.extra},
            status=exc.http_status,
        )
    if isinstance(exc, ApplicationError):
        answer = Response({"code": exc.code, "message": exc.message, "extra": exc.extra}, status=exc.http_status)
        if exc.http_status == status.HTTP_401_UNAUTHORIZED:
            # A 401 names the scheme that would succeed, as DRF's own 401s do.
            answer["WWW-Authenticate"] = 'Bearer realm="api"'
        return answer
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        response.data = {"code": "invalid", "message": _summary(fields), "fields": fields}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), "error")
    detail = getattr(exc, "detail", "")
    message = MESSAGES.get(code) if code in MESSAGES and detail == getattr(type(exc), "default_detail", None) else None
    if code == "malformed_request":
        message = f"The request body could not be read: {detail}. Send a JSON object."
    response.data = {"code": code, "message": message or str(detail)}
    return response


class ErrorSerializer(serializers.Serializer):
    """Documents the error body in the OpenAPI schema."""

    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="A sentence saying what went wrong and what to fix.")
    fields = serializers.DictField(  # type: ignore[assignment]  # the metaclass turns it into a field
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Only for code "invalid": each bad field (dotted path) with its reasons.',
    )
    extra = serializers.DictField(required=False, help_text="Details such as the current status.")


def json_or_html_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Addresses under /api/ that match no route answer in the API's error shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "message": "Nothing exists at this address; check the URL against /api/v1/docs/."},
            status=404,
        )
    return page_not_found(request, exception)


# What a client should do when the database does not answer: the same words on the API and
# on the pages. Nothing is promised about a request that failed this way except that a retry
# is safe: a POST retried with its Idempotency-Key is applied once.
DATABASE_UNAVAILABLE = (
    "The service is briefly unavailable: its database did not answer. Try again in a few seconds; "
    "a request sent again with the same Idempotency-Key is applied only once."
)
RETRY_AFTER_SECONDS = 5


def json_or_html_500(request: HttpRequest) -> HttpResponse:
    """Django's last resort for an exception nothing else answered. A database that is down
    or restarting (a connection refused, broken or reset) is not a bug: it answers 503 with
    ``Retry-After`` and a sentence saying to retry, without touching the database again (no
    session, no user, no template that reads either)."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        answer: HttpResponse
        if request.path.startswith("/api/"):
            answer = JsonResponse({"code": "service_unavailable", "message": DATABASE_UNAVAILABLE}, status=503)
        else:
            answer = HttpResponse(render_to_string("503.html", {"message": DATABASE_UNAVAILABLE}), status=503)
        answer["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "message": "Something went wrong on our side; it has been logged. Try again."},
            status=500,
        )
    return server_error(request)
