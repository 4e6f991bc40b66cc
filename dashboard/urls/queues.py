"""Staff dashboard URLs: queues and search (included by dashboard/urls/__init__.py, namespace
"dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import queues as views

urlpatterns: list[URLPattern] = [
    path("queues/<slug:stage>/", views.queue, name="queue"),
    path("queues/<slug:stage>/bulk/", views.queue_bulk, name="queue-bulk"),
    path("search/", views.search, name="search"),
]
