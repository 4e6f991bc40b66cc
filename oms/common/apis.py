"""Staff tokens over the API: a handheld scanner signs in as the picker or packer holding it.

``POST /api/v1/auth/tokens/`` takes a staff user's username and password and answers with a
token, shown once; ``DELETE /api/v1/auth/tokens/current/`` revokes the token the request
carries. Every other endpoint accepts the token as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.common.api_errors import ErrorSerializer
from oms.common.errors import NotFound
from oms.common.models import StaffToken
from oms.common.services import staff_token_issue, staff_token_revoke
from oms.common.throttling import PerAddressScopedThrottle


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class StaffTokenObtainInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    device = serializers.CharField(
        max_length=100, help_text="A name for the device, shown to managers in the admin, such as scanner-07."
    )


class StaffTokenUserOutput(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(
        child=serializers.CharField(), help_text="The user's roles, such as picker or packer, sorted by name."
    )


class StaffTokenOutput(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Bearer <token>`. It is shown only now; only its hash is stored."
    )
    expires_at = serializers.DateTimeField(help_text="After this moment requests answer 401: sign in again.")
    user = StaffTokenUserOutput()


class StaffTokenObtainView(APIView):
    # No authentication at all: a device signing in again must not be refused because it
    # still sends its old, expired token; and with no session there is no CSRF check.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PerAddressScopedThrottle]
    throttle_scope = "staff_token"

    @extend_schema(
        operation_id="auth_tokens_create",
        tags=["auth"],
        summary="Get a staff token",
        description=(
            "Signs a staff user in from a device such as a handheld scanner. Needs no credentials; an "
            "`Authorization` header is ignored. Only active staff accounts get a token. The token acts as "
            "the user, with their roles, until `expires_at` (`OMS_STAFF_TOKEN_TTL_HOURS`, 12 hours by default) "
            "or until it is revoked. By default at most 10 requests a minute per client address; more answer 429."
        ),
        request=StaffTokenObtainInput,
        responses={
            201: OpenApiResponse(StaffTokenOutput, description="The token, shown this once, and who it acts as."),
            400: _err("A field is missing or blank (`invalid`): `fields` names it."),
            401: _err("The username or password is wrong, or the account is disabled (`authentication_failed`)."),
            403: _err("The account is not a staff account (`not_staff`)."),
            429: _err(
                "Too many attempts from this address (`throttled`); `Retry-After` says how many seconds to wait."
            ),
        },
        examples=[
            OpenApiExample(
                "A scanner signs in",
                value={"username": "anna", "password": "correct horse battery staple", "device": "scanner-07"},
                request_only=True,
            ),
            OpenApiExample(
                "The token",
                value={
                    "token": "oms_staff_3f9a1c2e_N9v2kq0XHq7pXo1yVd1mXc4rQk8sT0uW6yZ2aB5cD7e",
                    "expires_at": "2026-11-24T06:00:00Z",
                    "user": {"username": "anna", "roles": ["picker"]},
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = StaffTokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = staff_token_issue(**data.validated_data)
        body = {
            "token": issued.raw_key,
            "expires_at": issued.token.expires_at,
            "user": {"username": issued.token.user.get_username(), "roles": issued.roles},
        }
        response = Response(StaffTokenOutput(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # the token must not linger in any cache
        return response


class StaffTokenCurrentView(APIView):
    @extend_schema(
        operation_id="auth_tokens_current_destroy",
        tags=["auth"],
        summary="Revoke the staff token of this request",
        description="Signs the device out: the token the request carries stops working at once.",
        request=None,
        responses={
            204: OpenApiResponse(description="Revoked; later requests with this token answer 401."),
            401: _err(
                "No token, or the token is invalid, expired or already revoked "
                "(`not_authenticated`, `authentication_failed`)."
            ),
            403: _err("A logged-in browser session failed its CSRF check (`permission_denied`)."),
            404: _err("The request was not made with a staff token, so there is none to revoke (`no_staff_token`)."),
        },
    )
    def delete(self, request: Request) -> Response:
        token = request.auth
        if not isinstance(token, StaffToken):
            raise NotFound(
                "This request was not made with a staff token, so there is none to revoke. "
                "Send the token to revoke as 'Authorization: Bearer <token>'.",
                code="no_staff_token",
            )
        staff_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
