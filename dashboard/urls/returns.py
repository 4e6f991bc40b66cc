"""Staff dashboard URLs: the returns queue, one return and its actions, and starting a return
from an order (included by dashboard/urls/__init__.py, namespace "dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import returns as views

urlpatterns: list[URLPattern] = [
    path("returns/", views.return_queue, name="returns"),
    path("returns/<str:number>/", views.return_detail, name="return"),
    path("returns/<str:number>/approve/", views.return_approve, name="return-approve"),
    path("returns/<str:number>/reject/", views.return_reject, name="return-reject"),
    path("returns/<str:number>/cancel/", views.return_cancel, name="return-cancel"),
    path("returns/<str:number>/receive/", views.return_receive, name="return-receive"),
    path("returns/<str:number>/inspect/", views.return_inspect, name="return-inspect"),
    path("returns/<str:number>/refund/", views.return_refund, name="return-refund"),
    # orders/<number>/return/ is the order page's "Mark returned" action.
    path("orders/<str:number>/returns/new/", views.order_return_start, name="order-return-start"),
]
