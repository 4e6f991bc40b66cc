"""Shipping endpoints, included under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from shipping.apis.handover import ManifestViewSet, ParcelAwaitingPickupViewSet
from shipping.apis.labels import LabelViewSet
from shipping.apis.shipments import ShipmentViewSet, ShipTodayViewSet
from shipping.apis.tracking import CarrierTrackingEventsView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("manifests", ManifestViewSet, basename="manifest")
# Before any "parcels" prefix, so this fixed address never reads as a parcel's detail.
router.register("parcels/awaiting-pickup", ParcelAwaitingPickupViewSet, basename="parcel-awaiting-pickup")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("labels", LabelViewSet, basename="label")
router.register("ship-today", ShipTodayViewSet, basename="ship-today")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
    path("carriers/<str:code>/tracking-events/", CarrierTrackingEventsView.as_view(), name="carrier-tracking-events"),
]
