"""Webhook subscriptions over the REST API: validate input, call one service, serialize.

The secret is answered only by create and rotate-secret; every other answer leaves it out,
so a log of API traffic or a support user's screen never shows it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.apis.common import AUTH_ERRORS, OldestFirstPagination, error, own_api_client_id
from notifications.serializers import (
    WebhookSubscriptionCreateInput,
    WebhookSubscriptionOutput,
    WebhookSubscriptionSecretOutput,
    WebhookSubscriptionUpdateInput,
)
from notifications.services import webhooks as services
from oms.common.models import ApiClient
from oms.common.pagination import INVALID_CURSOR
from oms.common.permissions import ActionPermission

VIEW = "notifications.view_webhooksubscription"
ADD = "notifications.add_webhooksubscription"
CHANGE = "notifications.change_webhooksubscription"
DELETE = "notifications.delete_webhooksubscription"

SUBSCRIPTION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The subscription's id.")
NOT_FOUND = {
    404: error("No subscription with this id that the caller may see (`not_found`): API clients see their own.")
}
INVALID = {
    400: error(
        "Invalid input, nothing was changed: `webhook_url_invalid` (not an http(s) URL with a host), "
        "`unknown_event_type` (`extra.allowed` lists the types; `extra.unknown` the ones refused), or `invalid` "
        "(`fields` names every bad field)."
    )
}


@extend_schema_view(
    list=extend_schema(
        summary="List webhook subscriptions",
        description="Oldest first, cursor pages (follow `next`). An API client sees the subscriptions it created; "
        "staff see all. Secrets are not shown.",
        responses={200: WebhookSubscriptionOutput(many=True), **AUTH_ERRORS, **INVALID_CURSOR},
    ),
    retrieve=extend_schema(
        summary="Get a webhook subscription",
        parameters=[SUBSCRIPTION_ID],
        responses={200: WebhookSubscriptionOutput, **AUTH_ERRORS, **NOT_FOUND},
    ),
)
class WebhookSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "id"
    lookup_value_regex = r"[0-9]+"
    serializer_class = WebhookSubscriptionOutput
    pagination_class = OldestFirstPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": ADD,
        "partial_update": CHANGE,
        "rotate_secret": CHANGE,
        "destroy": DELETE,
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return services.webhook_subscription_list(api_client_id=own_api_client_id(self.request))

    @extend_schema(
        summary="Subscribe to webhook events",
        description="Events of the chosen types that happen from now on are POSTed to `url`, signed with the "
        "`secret` in the answer (shown only now: store it). See docs/webhooks.md for the body, the headers, "
        "how to check the signature and the retry schedule.",
        request=WebhookSubscriptionCreateInput,
        responses={201: WebhookSubscriptionSecretOutput, **INVALID, **AUTH_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WebhookSubscriptionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        client = request.auth if isinstance(request.auth, ApiClient) else None
        subscription = services.webhook_subscription_create(api_client=client, **data.validated_data)
        return Response(
            WebhookSubscriptionSecretOutput(subscription).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/webhooks/subscriptions/{subscription.pk}/"},
        )

    @extend_schema(
        summary="Change a webhook subscription",
        description="Send only what changes. Deliveries still being retried go to the new URL; events that happen "
        "from now on follow the new types. `is_active: false` pauses it.",
        parameters=[SUBSCRIPTION_ID],
        request=WebhookSubscriptionUpdateInput,
        responses={200: WebhookSubscriptionOutput, **INVALID, **AUTH_ERRORS, **NOT_FOUND},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        data = WebhookSubscriptionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_update(subscription=subscription, **data.validated_data)
        return Response(WebhookSubscriptionOutput(subscription).data)

    @extend_schema(
        summary="Delete a webhook subscription",
        description="With its deliveries and their log; nothing more is sent to it. To keep the log, set "
        "`is_active` to false instead.",
        parameters=[SUBSCRIPTION_ID],
        responses={204: None, **AUTH_ERRORS, **NOT_FOUND},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.webhook_subscription_delete(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate a subscription's secret",
        description="A new secret, in force at once: every delivery attempt from now on (retries of earlier "
        "events too) is signed with it. The answer is the only time it is shown.",
        parameters=[SUBSCRIPTION_ID],
        request=None,
        responses={200: WebhookSubscriptionSecretOutput, **AUTH_ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = services.webhook_subscription_rotate_secret(subscription=self.get_object())
        return Response(WebhookSubscriptionSecretOutput(subscription).data)
