"""Orders in the admin: read-only, with their lines, payments and timeline. State changes
are admin actions that call the same services as the API."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from oms.common.actors import Actor
from oms.common.errors import ApplicationError
from orders import services
from orders.models import Order, OrderEvent, OrderLine, Payment, ShippingMethod


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "price", "is_active"]
    list_filter = ["is_active"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(name) for name in self.fields or []]


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "name", "unit_price", "quantity"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["method", "amount", "currency", "reference", "status", "received_at"]


class EventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "from_status", "to_status", "actor_label", "note"]


def _bulk(
    request: HttpRequest, admin_obj: admin.ModelAdmin, queryset: QuerySet[Order], perm: str, run: Callable[..., Any]
) -> None:
    if not request.user.has_perm(perm):
        admin_obj.message_user(request, "Your role does not allow this action.", messages.ERROR)
        return
    actor = Actor.for_user(request.user)
    done, failed = [], []
    for number in queryset.values_list("number", flat=True):
        try:
            run(actor=actor, number=number)
            done.append(number)
        except ApplicationError as exc:
            failed.append(f"{number}: {exc.message}")
    if done:
        admin_obj.message_user(request, f"Done for {len(done)} order(s): {', '.join(done)}.", messages.SUCCESS)
    for line in failed:
        admin_obj.message_user(request, line, messages.ERROR)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "channel", "customer_name", "customer_email", "total", "created_at"]
    list_filter = ["status", "channel"]
    search_fields = ["number", "external_reference", "customer_email", "customer_name"]
    date_hierarchy = "created_at"
    inlines = [LineInline, PaymentInline, EventInline]
    actions = [
        "cancel",
        "start_picking",
        "abort_picking",
        "mark_packed",
        "mark_shipped",
        "mark_executed",
        "revoke_status_links",
    ]
    list_select_related = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Cancel selected orders")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        def run(*, actor: Actor, number: str) -> Order:
            return services.order_cancel(actor=actor, number=number, reason="Cancelled by staff in the admin")

        _bulk(request, self, queryset, "orders.cancel_order", run)

    @admin.action(description="Start picking selected orders")
    def start_picking(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _bulk(request, self, queryset, "orders.start_picking_order", services.order_start_picking)

    @admin.action(description="Abort picking (back to paid)")
    def abort_picking(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _bulk(request, self, queryset, "orders.abort_picking_order", services.order_abort_picking)

    @admin.action(description="Mark selected orders packed")
    def mark_packed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _bulk(request, self, queryset, "orders.pack_order", services.order_mark_packed)

    @admin.action(description="Mark selected orders shipped")
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _bulk(request, self, queryset, "orders.ship_order", services.order_mark_shipped)

    @admin.action(description="Mark selected orders executed (delivered)")
    def mark_executed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _bulk(request, self, queryset, "orders.execute_order", services.order_mark_executed)

    @admin.action(description="Revoke the status-page links sent to the customer")
    def revoke_status_links(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        def run(*, actor: Actor, number: str) -> Order:
            return services.order_revoke_status_links(
                actor=actor, number=number, reason="Revoked by staff in the admin"
            )

        _bulk(request, self, queryset, "orders.revoke_status_links", run)
