"""Master data of fulfillment (package types, stations) is edited here; pick lists, packing
and the accuracy ledger are shown read-only: they change only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fulfillment.models import AccuracyEvent, Package, PackageType, PackingStation, PickList, PickListOrder, PickTask


@admin.register(PackageType)
class PackageTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "length_mm", "width_mm", "height_mm", "tare_grams", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(PackingStation)
class PackingStationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "warehouse", "label_format", "is_active"]
    list_filter = ["warehouse", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = PickListOrder
    extra = 0
    fields = ["position", "order", "tote", "state", "note"]
    readonly_fields = ["position", "order", "tote", "state", "note"]
    can_delete = False


class TaskInline(admin.TabularInline):
    model = PickTask
    extra = 0
    fields = ["location", "product", "entry", "quantity", "quantity_picked", "status"]
    readonly_fields = ["location", "product", "entry", "quantity", "quantity_picked", "status"]
    can_delete = False


@admin.register(PickList)
class PickListAdmin(ReadOnlyAdmin):
    list_display = ["number", "warehouse", "picker", "status", "created_at", "completed_at"]
    list_filter = ["status", "warehouse"]
    search_fields = ["number", "entries__order__number"]
    inlines = [EntryInline, TaskInline]


@admin.register(Package)
class PackageAdmin(ReadOnlyAdmin):
    list_display = ["order", "sequence", "package_type", "status", "weight_grams", "expected_weight_grams"]
    search_fields = ["order__number"]


@admin.register(AccuracyEvent)
class AccuracyEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "order_number", "sku", "location", "expected", "actual", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["order_number", "sku", "location"]
