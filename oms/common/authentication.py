from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from oms.common.errors import AuthenticationFailed
from oms.common.services import api_client_authenticate, is_staff_token, staff_token_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` with an API client's key or a staff token.

    An API client's key authenticates as its service user and ``request.auth`` is the
    ApiClient; a staff token (``oms_staff_...``) authenticates as the staff user who signed
    in and ``request.auth`` is the StaffToken.
    """

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send 'Authorization: Bearer <key>' with the key alone."
            )
        raw_key = parts[1]
        if is_staff_token(raw_key):
            try:
                token = staff_token_authenticate(raw_key=raw_key)
            except AuthenticationFailed as exc:
                raise exceptions.AuthenticationFailed(exc.message) from None
            return token.user, token
        client = api_client_authenticate(raw_key=raw_key)
        if client is None:
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.")
        return client.user, client

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Two schemes for one header: either an API client's key or a staff token will do."""

    target_class = "oms.common.authentication.ApiKeyAuthentication"
    name = ["ApiKey", "StaffToken"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"ApiKey": []}, {"StaffToken": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key created with `manage.py create_api_client NAME` or in the admin.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "A staff user's personal token (`oms_staff_...`) from `POST /api/v1/auth/tokens/` with the "
                    "user's username and password, for a handheld scanner. It acts as that user, with their role, "
                    "until it expires (`expires_at`), is revoked (`DELETE /api/v1/auth/tokens/current/`) or the "
                    "account is disabled; then requests answer 401 and the device signs in again."
                ),
            },
        ]
