from django.db import models

# The permissions the shipping use cases check (granted by migrations/0004_label_roles.py).
MANAGE_LABELS = "shipping.manage_labels"
HAND_OVER = "shipping.hand_over"
VIEW_SHIPMENTS = "shipping.view_shipment"


class AdapterKind(models.TextChoices):
    OWN_FLEET = "own_fleet", "Own fleet or local courier (built in, offline)"
    KARRIO = "karrio", "Carrier API through the karrio SDK"


class LabelFormat(models.TextChoices):
    PDF = "pdf", "PDF, 4 x 6 inch"
    ZPL = "zpl", "ZPL for thermal printers"


class ShipmentStatus(models.TextChoices):
    AWAITING_LABELS = "awaiting_labels", "Waiting for labels"
    LABELLED = "labelled", "Labelled, waiting for the courier"
    HANDED_OVER = "handed_over", "Handed over to the carrier"
    DELIVERED = "delivered", "Delivered"
    RETURNED = "returned", "Returned to sender"


class LabelStatus(models.TextChoices):
    REQUESTED = "requested", "Being created"
    LIVE = "live", "Live"
    FAILED = "failed", "Failed"
    VOIDED = "voided", "Voided"


# A package has at most one label in these states (a partial unique index says so).
CURRENT_LABEL_STATES = (LabelStatus.REQUESTED, LabelStatus.LIVE, LabelStatus.FAILED)


class ManifestStatus(models.TextChoices):
    OPEN = "open", "Open, scanning parcels out"
    CLOSED = "closed", "Closed, handed to the courier"


class TrackingStatus(models.TextChoices):
    """The canonical tracking vocabulary every carrier's events are normalised to."""

    LABEL_CREATED = "label_created", "Label created"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup", "Available for pick-up"
    ATTEMPTED_DELIVERY = "attempted_delivery", "Delivery attempted"
    DELAYED = "delayed", "Delayed"
    EXCEPTION = "exception", "Exception"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"
    DELIVERED = "delivered", "Delivered"


class ShippingErrorCode(models.TextChoices):
    SHIPMENT_TRANSITION_NOT_ALLOWED = "shipment_transition_not_allowed"
    NO_CARRIER_SERVICE = "no_carrier_service"
    LABEL_NOT_LIVE = "label_not_live"
    LABEL_NOT_FAILED = "label_not_failed"
    NO_LABELS = "no_labels"
    MANIFEST_CLOSED = "manifest_closed"
    PARCEL_NOT_FOUND = "parcel_not_found"
    PARCEL_OTHER_CARRIER = "parcel_other_carrier"
    PARCEL_ALREADY_SCANNED = "parcel_already_scanned"
    MANIFEST_EMPTY = "manifest_empty"
    SIGNATURE_INVALID = "signature_invalid"
    PAYLOAD_INVALID = "payload_invalid"
    UNKNOWN_TRACKING_NUMBER = "unknown_tracking_number"
