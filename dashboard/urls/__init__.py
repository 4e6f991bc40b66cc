"""The staff dashboard under /staff/: one module of URLs per area, all in the "dashboard"
namespace."""

from django.urls import URLPattern

from dashboard.urls import home, incidents, jobs, kpis, orders, queues, returns

app_name = "dashboard"

urlpatterns: list[URLPattern] = [
    *home.urlpatterns,
    *queues.urlpatterns,
    *orders.urlpatterns,
    *incidents.urlpatterns,
    *returns.urlpatterns,
    *kpis.urlpatterns,
    *jobs.urlpatterns,
]
