"""Staff pages of fulfillment under /staff/: the picker and packer screens."""

from django.urls import path

from fulfillment import views

app_name = "fulfillment"

urlpatterns = [
    path("picking/", views.picking_home, name="picking"),
    path("picking/take/", views.pick_list_take, name="pick-list-take"),
    path("picking/make/", views.pick_list_make, name="pick-list-make"),
    path("picking/<str:number>/", views.pick_list_page, name="pick-list"),
    path("picking/<str:number>/start/", views.pick_list_start, name="pick-list-start"),
    path("picking/<str:number>/scan/", views.pick_list_scan, name="pick-list-scan"),
    path("picking/<str:number>/short/", views.pick_list_short, name="pick-list-short"),
    path("picking/<str:number>/cancel/", views.pick_list_cancel, name="pick-list-cancel"),
    path("picking/<str:number>/pdf/", views.pick_list_pdf, name="pick-list-pdf"),
    path("packing/", views.packing_home, name="packing"),
    path("packing/station/", views.packing_station, name="packing-station"),
    path("packing/open/", views.packing_open, name="packing-open"),
    path("packing/<str:order_number>/", views.packing_page, name="packing-order"),
    path("packing/<str:order_number>/box/", views.packing_box, name="packing-box"),
    path("packing/<str:order_number>/scan/", views.packing_scan, name="packing-scan"),
    path("packing/<str:order_number>/weigh/", views.packing_weigh, name="packing-weigh"),
    path("packing/<str:order_number>/complete/", views.packing_finish, name="packing-complete"),
    path("packing/<str:order_number>/slip/", views.packing_slip_pdf, name="packing-slip"),
]
