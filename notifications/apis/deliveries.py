"""Webhook deliveries (with every attempt: status code, duration, answer excerpt), manual
redelivery of dead ones, and the events they carry."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.apis.common import AUTH_ERRORS, INVALID_FILTER, NewestFirstPagination, error, own_api_client_id
from notifications.enums import DeliveryState, WebhookEventType
from notifications.models import WebhookDelivery, WebhookEvent
from notifications.serializers import WebhookDeliveryOutput, WebhookEventOutput
from notifications.services import webhooks as services
from oms.common.actors import Actor
from oms.common.permissions import ActionPermission

VIEW_DELIVERIES = "notifications.view_webhookdelivery"
REDELIVER = "notifications.redeliver_webhookdelivery"
VIEW_EVENTS = "notifications.view_webhookevent"

DELIVERY_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The delivery's id (`X-OMS-Delivery`).")
DELIVERY_NOT_FOUND = {
    404: error("No delivery with this id that the caller may see (`not_found`): API clients see their own.")
}
EVENT_ID = OpenApiParameter("event_id", str, OpenApiParameter.PATH, description="The event's id (`X-OMS-Event-Id`).")
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class DeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.NumberFilter(field_name="subscription_id", help_text="A subscription's id.")
    state = django_filters.ChoiceFilter(choices=DeliveryState.choices)
    event_type = django_filters.ChoiceFilter(field_name="event__type", choices=WebhookEventType.choices)
    event = django_filters.UUIDFilter(field_name="event__event_id", help_text="An event's id.")

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "state", "event_type", "event"]


@extend_schema_view(
    list=extend_schema(
        summary="List webhook deliveries",
        description="Newest first, cursor pages (follow `next`), each with its attempts log. An API client sees "
        "the deliveries to its own subscriptions; staff see all. Filter by `subscription`, `state` (`dead` for "
        "the dead letters), `event_type` and `event`.",
        responses={200: WebhookDeliveryOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a webhook delivery",
        description="With every attempt: when, the receiver's status code (null when it did not answer), how "
        "long it took, the first 500 characters of its answer, and the error.",
        parameters=[DELIVERY_ID],
        responses={200: WebhookDeliveryOutput, **AUTH_ERRORS, **DELIVERY_NOT_FOUND},
    ),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "id"
    lookup_value_regex = r"[0-9]+"
    serializer_class = WebhookDeliveryOutput
    filterset_class = DeliveryFilter
    pagination_class = NewestFirstPagination
    permission_classes = [ActionPermission]
    required_permissions = {"list": VIEW_DELIVERIES, "retrieve": VIEW_DELIVERIES, "redeliver": REDELIVER}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return services.webhook_delivery_list(api_client_id=own_api_client_id(self.request))

    @extend_schema(
        summary="Redeliver a dead delivery",
        description="Sends the event again, the same body with a fresh signature, and retries it with backoff "
        "for another `OMS_WEBHOOK_RETRY_HOURS` (24 h by default). The attempts log continues; `redeliveries` "
        "counts the manual redeliveries.",
        parameters=[DELIVERY_ID],
        request=None,
        responses={
            202: WebhookDeliveryOutput,
            **AUTH_ERRORS,
            **DELIVERY_NOT_FOUND,
            409: error(
                "The delivery is not dead (`delivery_not_dead`; `extra.state` is its state): a pending one is "
                "still being retried, a delivered one arrived. Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = self.get_object()
        services.webhook_redeliver(delivery_id=delivery.pk, actor=Actor.for_request(request))
        fresh = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliveryOutput(fresh).data, status=status.HTTP_202_ACCEPTED)


class EventFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=WebhookEventType.choices)

    class Meta:
        model = WebhookEvent
        fields = ["type"]


@extend_schema_view(
    list=extend_schema(
        summary="List webhook events",
        description="Newest first, cursor pages (follow `next`), with the data each delivery carries. Filter by "
        "`type`. Events are kept whether or not any subscription wanted them.",
        responses={200: WebhookEventOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a webhook event",
        parameters=[EVENT_ID],
        responses={200: WebhookEventOutput, **AUTH_ERRORS, 404: error("No event with this id (`not_found`).")},
    ),
)
class WebhookEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "event_id"
    lookup_value_regex = UUID
    serializer_class = WebhookEventOutput
    filterset_class = EventFilter
    pagination_class = NewestFirstPagination
    permission_classes = [ActionPermission]
    required_permissions = {"list": VIEW_EVENTS, "retrieve": VIEW_EVENTS}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return services.webhook_event_list()
