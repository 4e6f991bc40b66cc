"""Statuses, reasons, outcomes and error codes of returns."""

from django.db import models


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RECEIVED = "received", "Received"
    INSPECTED = "inspected", "Inspected"
    REFUNDED = "refunded", "Refunded"
    CANCELLED = "cancelled", "Cancelled"


class ReturnReason(models.TextChoices):
    """Why a customer sends an item back, as the return form offers it (data for the KPIs)."""

    DAMAGED = "damaged", "Arrived damaged"
    DEFECTIVE = "defective", "Does not work"
    WRONG_ITEM = "wrong_item", "Not what I ordered"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    TOO_SMALL = "too_small", "Too small"
    TOO_LARGE = "too_large", "Too large"
    ARRIVED_LATE = "arrived_late", "Arrived too late"
    CHANGED_MIND = "changed_mind", "Changed my mind"
    OTHER = "other", "Another reason"


class InspectionOutcome(models.TextChoices):
    RESTOCK = "restock", "Back to stock"
    SCRAP = "scrap", "Scrapped"


class ReturnEventKind(models.TextChoices):
    STATUS_CHANGED = "status_changed", "Status changed"
    UNIT_INSPECTED = "unit_inspected", "Unit inspected"
    LABEL_CREATED = "label_created", "Return label made"
    LABEL_FAILED = "label_failed", "Return label failed"


class ReturnLabelStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    LIVE = "live", "Ready"
    FAILED = "failed", "Failed"


class ReturnErrorCode(models.TextChoices):
    RETURN_NOT_FOUND = "return_not_found"
    RETURN_NOT_ALLOWED = "return_not_allowed"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    RETURN_TRANSITION_NOT_ALLOWED = "return_transition_not_allowed"
    NOTHING_LEFT_TO_INSPECT = "nothing_left_to_inspect"
