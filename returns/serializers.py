"""Input and output shapes of the returns API. Input and output are separate classes and
carry no business rules: those live in ``returns.services``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms.common.actors import ActorKind
from orders.enums import PaymentMethod
from orders.serializers import ActorOutput, money
from orders.serializers_documents import AMOUNT_ERRORS
from returns import transitions
from returns.enums import InspectionOutcome, ReturnEventKind, ReturnLabelStatus, ReturnReason, ReturnStatus
from returns.models import Return, ReturnLabel


def _enum_schema(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices.choices),
    }


def _choose(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {"invalid_choice": f"{{input}} is not one of: {', '.join(choices.values)}."}


# Each enum is a named component of its own: fields called ``status`` or ``reason`` elsewhere
# in the API have other values, and drf-spectacular would otherwise name them by field.
@extend_schema_field(_enum_schema(ReturnStatus), component_name="ReturnStatusEnum")
class ReturnStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ReturnStatus.choices, **kwargs)


@extend_schema_field(_enum_schema(ReturnReason), component_name="ReturnReasonEnum")
class ReturnReasonField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ReturnReason.choices, error_messages=_choose(ReturnReason), **kwargs)


@extend_schema_field(_enum_schema(InspectionOutcome), component_name="InspectionOutcomeEnum")
class InspectionOutcomeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=InspectionOutcome.choices, error_messages=_choose(InspectionOutcome), **kwargs)


@extend_schema_field(_enum_schema(ReturnEventKind), component_name="ReturnEventKindEnum")
class ReturnEventKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ReturnEventKind.choices, **kwargs)


# --- input ----------------------------------------------------------------------------------


class ReturnLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="The SKU as it is on the order.")
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=100_000,
        error_messages={"min_value": "Return at least one unit."},
        help_text="Units sent back; at most what the order line has that no other live return asks for.",
    )
    reason = ReturnReasonField(help_text="Why the customer sends them back.")


class ReturnCreateInput(serializers.Serializer):
    order = serializers.CharField(max_length=32, help_text="The number of the delivered order.")
    lines = ReturnLineInput(  # type: ignore[call-arg]
        many=True,
        allow_empty=False,
        max_length=500,
        error_messages={"empty": "Choose at least one item to return."},
    )
    comment = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the customer wrote; required when a line's reason is `other`.",
    )
    allow_late = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Ask after the return window closed; needs the permission `returns.request_late_return`.",
    )


class ReturnNoteInput(serializers.Serializer):
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Kept in the return's timeline."
    )


class ReturnDecisionInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=255, help_text="Why; kept on the return (`decision_note`) and in its timeline."
    )


class ReturnReceiveInput(serializers.Serializer):
    received = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        allow_null=True,
        default=None,
        help_text='Units that arrived per SKU, such as {"MUG": 1}; SKUs left out arrived with none. Leave it out '
        "when everything asked for arrived.",
    )
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Kept in the return's timeline."
    )


class ReturnInspectInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="The SKU of the units inspected.")
    outcome = InspectionOutcomeField(help_text="`restock`: back into a bin; `scrap`: not sellable (say why).")
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=100_000,
        required=False,
        default=1,
        error_messages={"min_value": "Inspect at least one unit."},
        help_text="Received units with this outcome; 1 when left out.",
    )
    location = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Bin code the units go back into; required to restock.",
    )
    note = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="What was seen; required to scrap (why).",
    )


class ReturnRefundInput(serializers.Serializer):
    amount = money(
        min_value=Decimal("0.01"),
        error_messages=AMOUNT_ERRORS,
        help_text="The amount given back, in the order's currency; usually `refund_due`, less for a used item.",
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices, help_text="How the money went back.")
    reference = serializers.CharField(
        max_length=255, help_text="The payment provider's or bank's reference of the refund; unique per method."
    )
    note = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="Kept in the return's timeline and the refund's reason.",
    )


# --- output ---------------------------------------------------------------------------------
# Declared field by field rather than as ModelSerializers, like the orders API.


class ReturnRequesterOutput(serializers.Serializer):
    kind = serializers.ChoiceField(source="requested_by_kind", choices=ActorKind.choices)
    label = serializers.CharField(source="requested_by")  # type: ignore[assignment]


class ReturnLineSummaryOutput(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku")
    name = serializers.CharField(source="order_line.name")
    quantity = serializers.IntegerField(help_text="Units asked back.")
    reason = ReturnReasonField()
    quantity_received = serializers.IntegerField(help_text="Units that arrived.")


class ReturnInspectionOutput(serializers.Serializer):
    outcome = InspectionOutcomeField()
    location = serializers.CharField(
        source="location.code", allow_null=True, help_text="The bin a restocked unit went into."
    )
    note = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")


class ReturnLineOutput(ReturnLineSummaryOutput):
    inspections = ReturnInspectionOutput(many=True, help_text="One entry per unit inspected.")


class ReturnRefundOutput(serializers.Serializer):
    amount = money(read_only=True)
    currency = serializers.CharField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField()


class ReturnLabelOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ReturnLabelStatus.choices, help_text="requested: being made; live: ready to print; failed: see error."
    )
    carrier = serializers.CharField(source="carrier.code")
    tracking_number = serializers.CharField(allow_null=True)
    tracking_url = serializers.SerializerMethodField(help_text="Where the parcel can be followed, once numbered.")
    error = serializers.CharField(source="last_error", help_text="Why the carrier refused it, when it failed.")

    def get_tracking_url(self, label: ReturnLabel) -> str:
        return label.carrier.tracking_url(label.tracking_number) if label.tracking_number else ""


class ReturnEventOutput(serializers.Serializer):
    # "from" is a Python keyword, so the fields are built here rather than declared.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "kind": ReturnEventKindField(),
            "from": serializers.CharField(source="from_status", help_text="Status before; empty when created."),
            "to": serializers.CharField(source="to_status", help_text="Status after; empty for an inspection."),
            "note": serializers.CharField(),
            "data": serializers.JSONField(help_text="For an inspection: sku, quantity, outcome, location."),
            "actor": ActorOutput(source="*"),
            "at": serializers.DateTimeField(source="created_at"),
        }


class ReturnSummaryOutput(serializers.Serializer):
    number = serializers.CharField(help_text="The RMA number the customer quotes.")
    order = serializers.CharField(source="order.number", help_text="The order's number.")
    status = ReturnStatusField()
    comment = serializers.CharField()
    requested_by = ReturnRequesterOutput(source="*")
    decision_note = serializers.CharField(help_text="Why it was rejected or cancelled.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    inspected_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    lines = ReturnLineSummaryOutput(many=True)


class ReturnDetailOutput(ReturnSummaryOutput):
    # "label" is also a Serializer attribute, so the field is added here rather than declared.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["label"] = ReturnLabelOutput(
            allow_null=True,
            read_only=True,
            source="label_or_none",
            help_text="The customer's return label when the order's carrier takes them (its PDF at `label/`); "
            "null otherwise.",
        )
        return fields

    lines = ReturnLineOutput(many=True)  # type: ignore[assignment]
    refund = ReturnRefundOutput(allow_null=True, help_text="The refund, once recorded.")
    refund_due = money(read_only=True, help_text="What the received units are worth at the prices paid.")
    events = ReturnEventOutput(many=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="The statuses this return can move to next (the action endpoints that can succeed now)."
    )

    def get_allowed_transitions(self, ret: Return) -> list[str]:
        return sorted(transitions.allowed_from(ret.status))
