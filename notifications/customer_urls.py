"""The customer's order-status page, included at /track/ (no namespace: ``order-status`` is
the name the emails' links are built with, ``notifications/status_links.py``)."""

from django.urls import URLPattern, path

from notifications import customer_actions, customer_returns, customer_views

urlpatterns: list[URLPattern] = [
    path("", customer_views.order_lookup, name="order-lookup"),
    path("<str:token>/", customer_views.order_status, name="order-status"),
    path("<str:token>/invoice.pdf", customer_views.order_status_invoice, name="order-status-invoice"),
    path("<str:token>/cancel/", customer_actions.order_status_cancel, name="order-status-cancel"),
    path("<str:token>/address/", customer_actions.order_status_address, name="order-status-address"),
    path("<str:token>/feedback/", customer_actions.order_status_feedback, name="order-status-feedback"),
    path("<str:token>/return/", customer_returns.order_status_return, name="order-status-return"),
    path(
        "<str:token>/returns/<str:rma>/label.pdf",
        customer_returns.order_status_return_label,
        name="order-status-return-label",
    ),
]
