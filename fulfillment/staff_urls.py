"""Staff pages of fulfillment under /staff/: the picker and packer screens."""

from django.urls import path

from fulfillment.views import packing as packing_views
from fulfillment.views import picking as picking_views

app_name = "fulfillment"

urlpatterns = [
    path("picking/", picking_views.picking_home, name="picking"),
    path("picking/take/", picking_views.pick_list_take, name="pick-list-take"),
    path("picking/make/", picking_views.pick_list_make, name="pick-list-make"),
    path("picking/<str:number>/", picking_views.pick_list_page, name="pick-list"),
    path("picking/<str:number>/start/", picking_views.pick_list_start, name="pick-list-start"),
    path("picking/<str:number>/scan/", picking_views.pick_list_scan, name="pick-list-scan"),
    path("picking/<str:number>/short/", picking_views.pick_list_short, name="pick-list-short"),
    path("picking/<str:number>/cancel/", picking_views.pick_list_cancel, name="pick-list-cancel"),
    path("picking/<str:number>/pdf/", picking_views.pick_list_pdf, name="pick-list-pdf"),
    path("packing/", packing_views.packing_home, name="packing"),
    path("packing/station/", packing_views.packing_station, name="packing-station"),
    path("packing/open/", packing_views.packing_open, name="packing-open"),
    path("packing/<str:order_number>/", packing_views.packing_page, name="packing-order"),
    path("packing/<str:order_number>/box/", packing_views.packing_box, name="packing-box"),
    path("packing/<str:order_number>/scan/", packing_views.packing_scan, name="packing-scan"),
    path("packing/<str:order_number>/weigh/", packing_views.packing_weigh, name="packing-weigh"),
    path("packing/<str:order_number>/complete/", packing_views.packing_finish, name="packing-complete"),
    path("packing/<str:order_number>/slip/", packing_views.packing_slip_pdf, name="packing-slip"),
]
