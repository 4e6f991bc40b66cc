"""Refuses request bodies over ``OMS_MAX_REQUEST_BYTES`` before anything reads them.

Django checks ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when ``request.body`` or form fields are
read; DRF's parsers read the raw stream and never hit that check, and uploaded files are not
counted at all. This middleware looks at the declared length (Django reads no body past it,
and none without it) so that an oversized JSON order, CSV import or form post is answered 413
at once: ``{"code": "request_too_large", "message"}`` under ``/api/``, plain text elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

TOO_LARGE_CODE = "request_too_large"


def _limit() -> int | None:
    value = getattr(settings, "OMS_MAX_REQUEST_BYTES", None)
    return int(value) if value is not None else None


def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    message = (
        f"The request body is larger than {limit} bytes, the most this server accepts; "
        "send less at once (split a CSV into smaller files, or an order into fewer lines)."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"code": TOO_LARGE_CODE, "message": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = _limit()
        if limit is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                return too_large_response(request, limit)
        return self.get_response(request)
