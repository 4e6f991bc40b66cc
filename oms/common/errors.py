"""Errors that services raise and every interface turns into an answer for its reader.

A service refuses a request by raising an ``ApplicationError`` subclass before it writes
anything (or inside the transaction it rolls back). The API answers with the class's HTTP
status and ``{"code", "message", "extra"}``; HTML views show ``message``.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "application_error"
    http_status = 409

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


class InvalidInput(ApplicationError):
    """The request names something that cannot be used; ``fields`` says which and why."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]], code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.fields = fields


class AuthenticationFailed(ApplicationError):
    """The credentials (a password, a token) are wrong, expired or revoked."""

    code = "authentication_failed"
    http_status = 401


class NotFound(ApplicationError):
    code = "not_found"
    http_status = 404


class Forbidden(ApplicationError):
    """The caller may use this kind of action, but not on this object (someone else's pick
    list, an override by a user without the right)."""

    code = "permission_denied"
    http_status = 403


class Conflict(ApplicationError):
    code = "conflict"
    http_status = 409


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    http_status = 422
