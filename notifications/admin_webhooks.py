"""Webhooks in the admin: subscriptions written through the same services as the API (a new
secret on add, a "rotate secret" action), events read-only, and deliveries read-only with
their attempts log and a "Redeliver" action for dead letters.

Importing this module registers the three models (``notifications/admin.py`` imports it).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.enums import DeliveryState, WebhookEventType
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from notifications.services import webhooks as services
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, InvalidInput


class WebhookSubscriptionForm(forms.ModelForm):
    """Event types as checkboxes; URL and types checked by the services' own rules, so the
    admin refuses exactly what the API refuses."""

    event_types = forms.MultipleChoiceField(choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple)
    url = forms.CharField(max_length=services.URL_MAX_LENGTH, help_text="Where events are POSTed: an http(s) URL.")

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "is_active"]

    def _checked(self, field: str, check: Any) -> Any:
        try:
            return check(self.cleaned_data.get(field))
        except InvalidInput as exc:
            raise forms.ValidationError(exc.fields.get(field, [exc.message])) from None

    def clean_url(self) -> str:
        return str(self._checked("url", services.webhook_url_validate))

    def clean_event_types(self) -> list[str]:
        return list(self._checked("event_types", lambda value: services.webhook_event_types_validate(list(value))))


def _show_secret(admin_obj: admin.ModelAdmin, request: HttpRequest, subscription: WebhookSubscription) -> None:
    admin_obj.message_user(
        request,
        f"Signing secret of {subscription.name} (copy it now, it is not shown again): {subscription.secret}",
        messages.WARNING,
    )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "event_types", "is_active", "api_client", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["api_client"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "event_types", "is_active", "secret_hint", "api_client", "created_at", "updated_at"]
    readonly_fields = ["secret_hint", "api_client", "created_at", "updated_at"]
    actions = ["rotate_secret"]

    @admin.display(description="Secret")
    def secret_hint(self, obj: WebhookSubscription) -> str:
        # The whole secret is shown once, when made; afterwards only enough to tell it apart.
        return f"{obj.secret[:10]}…" if obj.secret else "(made when saved)"

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.webhook_subscription_update(
                subscription=obj,
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                is_active=data["is_active"],
            )
            return
        created = services.webhook_subscription_create(
            name=data["name"], url=data["url"], event_types=data["event_types"], is_active=data["is_active"]
        )
        obj.__dict__.update(created.__dict__)
        _show_secret(self, request, created)

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        services.webhook_subscription_delete(subscription=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            services.webhook_subscription_delete(subscription=subscription)

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            _show_secret(self, request, services.webhook_subscription_rotate_secret(subscription=subscription))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the system writes: staff read them, and act only through actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["type", "event_id", "occurred_at", "created_at"]
    list_filter = ["type"]
    search_fields = ["event_id", "key"]
    date_hierarchy = "occurred_at"
    fields = readonly_fields = ("event_id", "type", "key", "occurred_at", "created_at", "data")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("number", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "event_type",
        "subscription",
        "state",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
        "dead_at",
    ]
    list_filter = ["state", "event__type"]
    list_select_related = ["event", "subscription"]
    search_fields = ["event__event_id", "subscription__name", "subscription__url"]
    fields = readonly_fields = (
        "event",
        "subscription",
        "state",
        "attempts",
        "redeliveries",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "dead_at",
    )
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.display(description="Event type", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.redeliver_webhookdelivery")

    @admin.action(description="Redeliver the selected dead deliveries", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        actor = Actor.for_user(request.user)
        done, refused = [], []
        for delivery_id, state in queryset.order_by("pk").values_list("pk", "state"):
            if state != DeliveryState.DEAD:
                refused.append(str(delivery_id))
                continue
            try:
                services.webhook_redeliver(delivery_id=delivery_id, actor=actor)
            except ApplicationError as exc:
                self.message_user(request, f"Delivery {delivery_id}: {exc.message}", messages.ERROR)
                continue
            done.append(str(delivery_id))
        if done:
            self.message_user(request, f"Redelivering {len(done)} delivery(ies): {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"Not redelivered, as they are not dead (still being retried, or delivered): {', '.join(refused)}.",
                messages.WARNING,
            )
