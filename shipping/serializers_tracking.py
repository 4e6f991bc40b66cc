"""The tracking webhook's answer. (The request body is the carrier's, read by
``shipping.tracking_payloads``; the OpenAPI schema describes it in shipping/apis/tracking.py.)"""

from __future__ import annotations

from rest_framework import serializers

from shipping.enums import TrackingStatus
from shipping.services.tracking import DUPLICATE, STORED, UNKNOWN_TRACKING_NUMBER, TrackingReceipt
from shipping.tracking_payloads import SOURCE_EASYPOST, SOURCE_OWN


class TrackingEventResultOutput(serializers.Serializer):
    index = serializers.IntegerField(
        help_text="Place of the event in the body (EasyPost: in tracking_details), from 0."
    )
    tracking_number = serializers.CharField()
    status = serializers.ChoiceField(
        choices=TrackingStatus.choices, help_text="The event's status in the canonical vocabulary."
    )
    occurred_at = serializers.DateTimeField()
    result = serializers.ChoiceField(
        choices=[
            (STORED, "Recorded now"),
            (DUPLICATE, "Recorded before; nothing changed"),
            (UNKNOWN_TRACKING_NUMBER, "No parcel of this carrier has this number; not recorded"),
        ],
        help_text=(
            "`stored`: recorded now. `duplicate`: the same event was recorded before, nothing changed. "
            "`unknown_tracking_number`: no parcel of this carrier has the number; not recorded, and sending it "
            "again will not help."
        ),
    )


class TrackingReceiptOutput(serializers.Serializer):
    carrier = serializers.CharField(help_text="The carrier code of the address called.")
    source = serializers.ChoiceField(  # type: ignore[assignment]  # the metaclass turns it into a field
        choices=[(SOURCE_OWN, "Our tracking payload"), (SOURCE_EASYPOST, "An EasyPost Event")],
        help_text="The payload shape the body was read as.",
    )
    message = serializers.CharField(help_text="A sentence summing up what was recorded.")
    stored = serializers.SerializerMethodField(help_text="How many events were recorded now.")
    duplicates = serializers.SerializerMethodField(help_text="How many events were recorded before.")
    unknown = serializers.SerializerMethodField(help_text="How many events name a tracking number we do not know.")
    results = TrackingEventResultOutput(many=True, help_text="One entry per event, in the order of the body.")

    def get_stored(self, receipt: TrackingReceipt) -> int:
        return receipt.count(STORED)

    def get_duplicates(self, receipt: TrackingReceipt) -> int:
        return receipt.count(DUPLICATE)

    def get_unknown(self, receipt: TrackingReceipt) -> int:
        return receipt.count(UNKNOWN_TRACKING_NUMBER)
