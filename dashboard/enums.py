from django.db import models


class IncidentKind(models.TextChoices):
    """What can go wrong with an order that someone must look at (the exception inbox)."""

    PAYMENT_MISMATCH = "payment_mismatch", "Payment does not match the total"
    STOCK_SHORTAGE = "stock_shortage", "Waiting for stock"
    SHORT_PICK = "short_pick", "Short pick"
    WEIGHT_OVERRIDE = "weight_override", "Weight override"
    LABEL_FAILED = "label_failed", "Label failed"
    TRACKING_EXCEPTION = "tracking_exception", "Delivery problem"
    STALE_SHIPMENT = "stale_shipment", "No tracking news"
    LATE_ORDER = "late_order", "Late order"
    REFUND_DUE = "refund_due", "Refund due on a cancelled order"


class JobKind(models.TextChoices):
    """Bulk work run in the background, with progress and a file to download."""

    PRINT_LABELS = "print_labels", "Print labels"
    PACKING_SLIPS = "packing_slips", "Print packing slips"
    EXPORT_ORDERS = "export_orders", "Export orders (CSV)"


class JobState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class DashboardErrorCode(models.TextChoices):
    INCIDENT_NOT_FOUND = "incident_not_found"
    INCIDENT_RESOLVED = "incident_resolved"
    INCIDENT_TAKEN = "incident_taken"
    JOB_NOT_FOUND = "job_not_found"
    JOB_NOT_DONE = "job_not_done"
    JOB_TOO_LARGE = "job_too_large"
    NOTHING_SELECTED = "nothing_selected"
    TOO_MANY_SELECTED = "too_many_selected"
