"""Staff pages of shipping under /staff/."""

from django.urls import URLPattern, path  # noqa: F401 - routes are added below

app_name = "shipping"

urlpatterns: list[URLPattern] = []
