from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from inventory.apis.products import ProductViewSet
from oms.common.health import healthz
from orders.apis import OrderViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")

api_v1: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api-v1"))),
]

handler404 = "oms.common.api_errors.json_or_html_404"
handler500 = "oms.common.api_errors.json_or_html_500"
