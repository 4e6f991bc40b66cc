"""Shipping endpoints, included under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
]
