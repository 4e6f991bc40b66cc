"""The API's JSON parser: DRF's, with every unreadable body answered as a parse error.

DRF turns a ``ValueError`` from the decoder into ``ParseError`` (400 ``malformed_request``), but
a body nested thousands of levels deep makes the decoder raise ``RecursionError``, which would
end as a 500. Python's message for a number of more than 4300 digits names an interpreter
setting; the integrator is told what is wrong with the body instead.
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - arrays or objects are nested too deeply") from None
        except ParseError as exc:
            if "integer string conversion" in str(exc.detail):
                raise ParseError("JSON parse error - a number has more than 4300 digits") from None
            raise
