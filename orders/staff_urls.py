"""Staff pages of orders under /staff/."""

from django.urls import URLPattern, path

from orders import staff_views

app_name = "orders"

urlpatterns: list[URLPattern] = [
    path("orders/<str:number>/invoice.pdf", staff_views.invoice_download, name="invoice-pdf"),
]
