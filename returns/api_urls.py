"""Returns endpoints, included under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from returns.apis import ReturnViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("returns", ReturnViewSet, basename="return")

urlpatterns: list[URLPattern | URLResolver] = [path("", include(router.urls))]
