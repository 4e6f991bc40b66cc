"""Staff dashboard URLs: home (included by dashboard/urls/__init__.py, namespace "dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import home as views

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
]
