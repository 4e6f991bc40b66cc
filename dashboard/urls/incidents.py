"""Staff dashboard URLs: the exception inbox (included by dashboard/urls/__init__.py,
namespace "dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import incidents as views

urlpatterns: list[URLPattern] = [
    path("exceptions/", views.incident_inbox, name="incidents"),
    path("exceptions/<int:incident_id>/take/", views.incident_take, name="incident-take"),
    path("exceptions/<int:incident_id>/release/", views.incident_release, name="incident-release"),
    path("exceptions/<int:incident_id>/resolve/", views.incident_resolve, name="incident-resolve"),
]
