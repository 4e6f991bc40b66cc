"""An order's invoice and refunds, included under ``/api/v1/`` before the router, whose
``orders/{number}/`` would otherwise read ``invoice`` and ``refunds`` as actions it lacks."""

from django.urls import URLPattern, path

from orders.apis_documents import OrderDocumentsViewSet

urlpatterns: list[URLPattern] = [
    path("orders/<str:number>/invoice/", OrderDocumentsViewSet.as_view({"get": "invoice"}), name="order-invoice"),
    path(
        "orders/<str:number>/refunds/",
        OrderDocumentsViewSet.as_view({"get": "refunds", "post": "refund_create"}),
        name="order-refunds",
    ),
]
