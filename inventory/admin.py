from django.contrib import admin

from inventory.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "barcode", "price", "weight_grams", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["sku", "name", "barcode"]
