"""Staff dashboard URLs: kpis (included by dashboard/urls/__init__.py, namespace "dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import kpis

urlpatterns: list[URLPattern] = [
    path("kpis/", kpis.kpis, name="kpis"),
    path("kpis/<slug:table>.csv", kpis.kpis_csv, name="kpis-csv"),
]
