"""Staff dashboard URLs: the order page and its actions (included by dashboard/urls/__init__.py,
namespace "dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import orders as views

urlpatterns: list[URLPattern] = [
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/edit/", views.order_edit, name="order-edit"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<str:number>/start-picking/", views.order_start_picking, name="order-start-picking"),
    path("orders/<str:number>/abort-picking/", views.order_abort_picking, name="order-abort-picking"),
    path("orders/<str:number>/return/", views.order_return, name="order-return"),
    path("orders/<str:number>/payment/", views.order_payment, name="order-payment"),
    path("orders/<str:number>/refund/", views.order_refund, name="order-refund"),
    path("orders/<str:number>/split/", views.order_split, name="order-split"),
    path("orders/<str:number>/revoke-links/", views.order_revoke_links, name="order-revoke-links"),
]
