"""Carriers and their services are master data, edited here."""

from __future__ import annotations

from django.contrib import admin

from shipping.models import Carrier, CarrierHoliday, CarrierService, PriceRule, ShippingMethodService


class HolidayInline(admin.TabularInline):
    model = CarrierHoliday
    extra = 1


class PriceRuleInline(admin.TabularInline):
    model = PriceRule
    extra = 1


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    inlines = [HolidayInline]


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = ["carrier", "code", "name", "service_level", "transit_days", "cutoff_time", "is_active"]
    list_filter = ["carrier", "service_level", "is_active"]
    inlines = [PriceRuleInline]


@admin.register(ShippingMethodService)
class ShippingMethodServiceAdmin(admin.ModelAdmin):
    list_display = ["shipping_method", "service"]
