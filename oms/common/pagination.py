from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination

from oms.common.api_errors import ErrorSerializer
from oms.common.errors import InvalidInput

# The 400 every cursor-paged list can answer; lists with filters document it with theirs.
INVALID_CURSOR = {
    400: OpenApiResponse(ErrorSerializer, description="`invalid_cursor`: the `cursor` was not given out by this list.")
}


class DefaultCursorPagination(CursorPagination):
    """Cursor pages stay fast and stable however deep a client pages and however fast rows arrive."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"

    def decode_cursor(self, request: Any) -> Cursor | None:
        # DRF answers an unreadable cursor with 404 "Invalid cursor"; the list exists, it is
        # the query parameter that is wrong, so say so as a 400 naming the field.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            message = "This cursor was not given out by this list; follow the next or previous link, or leave it out."
            raise InvalidInput(message, fields={"cursor": [message]}, code="invalid_cursor") from None
