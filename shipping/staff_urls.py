"""Staff pages of shipping under /staff/."""

from django.urls import URLPattern, path

from shipping.views import handover as handover_views
from shipping.views import labels as label_views
from shipping.views import ship_today as ship_today_views

app_name = "shipping"

urlpatterns: list[URLPattern] = [
    path("handover/", handover_views.handover_home, name="handover"),
    path("handover/open/", handover_views.handover_open, name="handover-open"),
    path("handover/<str:number>/", handover_views.manifest_page, name="manifest"),
    path("handover/<str:number>/scan/", handover_views.manifest_scan, name="manifest-scan"),
    path("handover/<str:number>/unscan/", handover_views.manifest_unscan, name="manifest-unscan"),
    path("handover/<str:number>/close/", handover_views.manifest_close, name="manifest-close"),
    path("handover/<str:number>/pdf/", handover_views.manifest_pdf, name="manifest-pdf"),
    path("labels/", label_views.labels_home, name="labels"),
    # Fixed addresses before labels/<order_number>/, so they never read as an order number.
    path("labels/print/", label_views.labels_print, name="labels-print"),
    path("labels/document/", label_views.labels_document, name="labels-document"),
    path("labels/label/<int:label_id>/void/", label_views.label_void, name="label-void"),
    path("labels/<str:order_number>/", label_views.labels_order, name="labels-order"),
    path("labels/<str:order_number>/retry/", label_views.labels_retry, name="labels-retry"),
    path("ship-today/", ship_today_views.ship_today, name="ship-today"),
]
