"""Notifications are shown read-only: they are written only by the notification services,
and kept as sent. The one action, Resend, calls the same service as the staff page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.models import Notification
from notifications.services.emails import notification_resend
from oms.common.actors import Actor
from oms.common.errors import ApplicationError


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "order", "subject", "state", "attempts", "sent_at", "resend_of"]
    list_filter = ["state", "kind", "attach_invoice", "created_at"]
    list_select_related = ["order", "resend_of"]
    search_fields = ["order__number", "recipients", "subject", "key", "message_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the log of what customers were told stays whole

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resend_notification")

    @admin.action(description="Resend the selected notifications", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        actor = Actor.for_request(request)
        resent = 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                notification_resend(notification_id=pk, actor=actor)
            except ApplicationError as exc:
                self.message_user(request, f"Notification {pk} not resent: {exc.message}", messages.ERROR)
            else:
                resent += 1
        if resent:
            self.message_user(
                request,
                f"Resent {resent} notification{'s' if resent != 1 else ''}: each new copy goes out within a minute.",
                messages.SUCCESS,
            )


import notifications.admin_webhooks  # noqa: E402,F401  (webhook subscriptions and deliveries)
