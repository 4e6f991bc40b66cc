"""Carriers and their services are master data, edited here. Shipments, labels, manifests and
tracking events are shown read-only: they change only through the shipping services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shipping.models import (
    Carrier,
    CarrierHoliday,
    CarrierService,
    Label,
    Manifest,
    PriceRule,
    Shipment,
    ShipmentEvent,
    ShippingMethodService,
    TrackingEvent,
)


class HolidayInline(admin.TabularInline):
    model = CarrierHoliday
    extra = 1


class PriceRuleInline(admin.TabularInline):
    model = PriceRule
    extra = 1


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "adapter", "label_format", "is_active"]
    fields = [
        "code",
        "name",
        "is_active",
        "adapter",
        "tracking_prefix",
        "karrio_carrier",
        "label_format",
        "tracking_url_template",
        "webhook_secret",
    ]
    inlines = [HolidayInline]


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = ["carrier", "code", "name", "service_level", "transit_days", "cutoff_time", "is_active"]
    list_filter = ["carrier", "service_level", "is_active"]
    inlines = [PriceRuleInline]


@admin.register(ShippingMethodService)
class ShippingMethodServiceAdmin(admin.ModelAdmin):
    list_display = ["shipping_method", "service"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LabelInline(admin.TabularInline):
    model = Label
    fields = ("package", "status", "tracking_number", "format", "attempts", "last_error", "issued_at", "voided_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    fields = ("created_at", "kind", "from_status", "to_status", "note", "actor_label")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ["order", "carrier", "service", "status", "tracking_status", "last_event_at", "stale_since"]
    list_filter = ["status", "carrier", "tracking_status"]
    list_select_related = ["order", "carrier", "service"]
    search_fields = ["order__number", "labels__tracking_number"]
    inlines = [LabelInline, ShipmentEventInline]


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    list_display = ["tracking_number", "shipment", "status", "format", "attempts", "issued_at", "scanned_out_at"]
    list_filter = ["status", "format"]
    list_select_related = ["shipment__order"]
    search_fields = ["tracking_number", "shipment__order__number"]
    exclude = ["pdf"]


@admin.register(Manifest)
class ManifestAdmin(ReadOnlyAdmin):
    list_display = ["number", "carrier", "pickup_date", "status", "closed_at", "closed_by"]
    list_filter = ["status", "carrier"]


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = ["label", "status", "carrier_status", "occurred_at", "received_at", "source"]
    list_filter = ["status", "source"]
    search_fields = ["label__tracking_number"]
