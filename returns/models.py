"""Returns (RMAs): what a customer sends back from a delivered order, line by line with a
reason, and what became of it: approved or rejected, received, each unit inspected (back to
a bin through the stock ledger, or scrapped with a reason), refunded."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from oms.common.actors import ActorKind
from oms.common.models import TimeStampedModel
from returns.enums import InspectionOutcome, ReturnEventKind, ReturnLabelStatus, ReturnReason, ReturnStatus


class Return(TimeStampedModel):
    number = models.CharField(max_length=32, unique=True, editable=False, help_text="The RMA number.")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(
        max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED, editable=False
    )
    comment = models.TextField(blank=True, help_text="What the customer wrote with the request.")
    requested_by_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    requested_by = models.CharField(max_length=200, help_text="Who asked: the customer, staff or an API client.")
    decision_note = models.CharField(max_length=255, blank=True, help_text="Why it was rejected or cancelled.")
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refund = models.OneToOneField(
        "orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="return_request"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="return_status_created")]
        permissions = [
            ("handle_return", "Can approve, reject, cancel and refund returns"),
            ("receive_return", "Can receive returned parcels and inspect their units"),
            ("request_late_return", "Can ask for a return after the return window closed"),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    """Units of one order line sent back, why, and how many arrived."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=30, choices=ReturnReason.choices)
    quantity_received = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["ret_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")), name="return_line_received_within_quantity"
            ),
            models.UniqueConstraint(fields=["ret", "order_line"], name="return_line_once_per_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id} ({self.reason})"


class ReturnInspection(models.Model):
    """One unit looked at after it came back: restocked into a bin (a ``return`` movement in
    the stock ledger) or scrapped, with the reason."""

    line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="inspections")
    outcome = models.CharField(max_length=10, choices=InspectionOutcome.choices)
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True, help_text="Why it was scrapped, or what was seen.")
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=InspectionOutcome.SCRAP) | Q(location__isnull=False),
                name="return_inspection_restock_has_bin",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome} ({self.line_id})"


class ReturnLabel(models.Model):
    """The label a customer sticks on the parcel they send back, made by the order's carrier
    when it takes return labels (``shipping.Carrier.return_labels``), once the return is
    approved, by a worker (a network call)."""

    ret = models.OneToOneField(Return, on_delete=models.CASCADE, related_name="label")
    carrier = models.ForeignKey("shipping.Carrier", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ReturnLabelStatus.choices, default=ReturnLabelStatus.REQUESTED, editable=False
    )
    tracking_number = models.CharField(max_length=64, null=True, blank=True, unique=True)
    carrier_reference = models.CharField(max_length=100, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"return label {self.tracking_number or self.pk} ({self.status})"


class ReturnEvent(models.Model):
    """The return's audit trail: who moved it, when, from what to what, and why."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=ReturnEventKind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ret", "created_at"], name="return_event_return_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status}"
