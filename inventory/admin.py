from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from inventory.models import (
    CycleCount,
    Location,
    LowStockAlert,
    Product,
    ReorderRule,
    StockLevel,
    StockMovement,
    Warehouse,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "barcode", "price", "weight_grams", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["sku", "name", "barcode"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "warehouse", "pick_sequence", "is_active"]
    list_filter = ["warehouse", "is_active"]
    search_fields = ["code"]
    ordering = ["warehouse", "pick_sequence", "code"]


@admin.register(ReorderRule)
class ReorderRuleAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "reorder_point", "reorder_quantity"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku"]
    autocomplete_fields = ["product"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Stock counters and the ledger change only through the stock services (API, counts)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["product", "location", "on_hand", "allocated", "updated_at"]
    list_filter = ["location__warehouse"]
    search_fields = ["product__sku", "location__code"]
    list_select_related = ["product", "location"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "product", "location", "on_hand_delta", "allocated_delta", "reason",
                    "order_number", "actor_label"]  # fmt: skip
    list_filter = ["kind", "reason"]
    search_fields = ["product__sku", "location__code", "order_number", "reference"]
    list_select_related = ["product", "location"]


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ReadOnlyAdmin):
    list_display = ["product", "warehouse", "available", "reorder_point", "raised_at", "resolved_at"]
    list_filter = ["warehouse"]
    list_select_related = ["product", "warehouse"]


@admin.register(CycleCount)
class CycleCountAdmin(ReadOnlyAdmin):
    list_display = ["reference", "status", "created_by", "created_at", "decided_by"]
    list_filter = ["status"]
