"""Webhook endpoints, included under ``/api/v1/`` (before the main router)."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from notifications.apis.deliveries import WebhookDeliveryViewSet, WebhookEventViewSet
from notifications.apis.subscriptions import WebhookSubscriptionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("webhooks/subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks/events", WebhookEventViewSet, basename="webhook-event")

urlpatterns: list[URLPattern | URLResolver] = [path("", include(router.urls))]
