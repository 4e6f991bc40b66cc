from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from fulfillment.apis.accuracy import AccuracyEventViewSet
from fulfillment.apis.order_actions import OrderWarehouseActionViewSet
from fulfillment.apis.packing import PackageTypeViewSet, PackingViewSet
from fulfillment.apis.picking import PickListViewSet, ReadyToPickViewSet
from inventory.apis.counts import CycleCountViewSet
from inventory.apis.imports import StockImportView
from inventory.apis.products import ProductViewSet
from inventory.apis.reorder import LowStockAlertViewSet, ReorderRuleViewSet
from inventory.apis.stock import (
    StockAdjustmentViewSet,
    StockLevelViewSet,
    StockMovementViewSet,
    StockReceiptViewSet,
)
from inventory.apis.warehouses import LocationViewSet, WarehouseViewSet
from oms.common.health import healthz
from orders.apis import OrderViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")
# start-picking, abort-picking and pack on the same orders/{number}/ paths (ADR 0005).
router.register("orders", OrderWarehouseActionViewSet, basename="order-warehouse-action")
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("locations", LocationViewSet, basename="location")
# Registered before "stock", so a fixed stock/... address always wins over /stock/{sku}/{location}/.
router.register("stock/movements", StockMovementViewSet, basename="stock-movement")
router.register("stock/receipts", StockReceiptViewSet, basename="stock-receipt")
router.register("stock/adjustments", StockAdjustmentViewSet, basename="stock-adjustment")
router.register("stock/alerts", LowStockAlertViewSet, basename="low-stock-alert")
router.register("stock", StockLevelViewSet, basename="stock")
router.register("reorder-rules", ReorderRuleViewSet, basename="reorder-rule")
router.register("counts", CycleCountViewSet, basename="cycle-count")
router.register("pick-lists", PickListViewSet, basename="pick-list")
router.register("ready-to-pick", ReadyToPickViewSet, basename="ready-to-pick")
router.register("packing", PackingViewSet, basename="packing")
router.register("package-types", PackageTypeViewSet, basename="package-type")
router.register("accuracy-events", AccuracyEventViewSet, basename="accuracy-event")

api_v1: list[URLPattern | URLResolver] = [
    path("stock/import/", StockImportView.as_view(), name="stock-import"),
    path("auth/", include("oms.common.api_urls")),
    # Fixed orders/{number}/invoice/ and /refunds/ addresses before the router's orders/{number}/.
    path("", include("orders.api_urls_documents")),
    path("", include("notifications.api_urls")),
    path("", include(router.urls)),
    path("", include("shipping.api_urls")),
    path("", include("returns.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from ?script, so the page runs no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema", template_name="oms/swagger_ui.html"),
        name="docs",
    ),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("staff/", include("oms.common.staff_urls")),
    path("staff/", include("fulfillment.staff_urls")),
    path("staff/", include("shipping.staff_urls")),
    path("staff/", include("orders.staff_urls")),
    path("staff/", include("notifications.staff_urls")),
    path("staff/", include("dashboard.urls")),
    # The customer's order-status page, opened from the signed link in every email.
    path("track/", include("notifications.customer_urls")),
    path("api/v1/", include((api_v1, "api-v1"))),
]

handler404 = "oms.common.api_errors.json_or_html_404"
handler500 = "oms.common.api_errors.json_or_html_500"
