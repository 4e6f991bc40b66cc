"""Output shape of the accuracy ledger."""

from __future__ import annotations

from rest_framework import serializers

from fulfillment.serializers.fields import AccuracyKindField

# --- the accuracy ledger --------------------------------------------------------------------


class AccuracyEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = AccuracyKindField()
    order_number = serializers.CharField()
    pick_list = serializers.CharField(source="pick_list.number", allow_null=True)
    package = serializers.IntegerField(source="package.sequence", allow_null=True, help_text="Package sequence.")
    sku = serializers.CharField(help_text="The SKU expected (at a bin), or scanned (at packing).")
    location = serializers.CharField(help_text="Bin code, for picking events.")
    expected = serializers.CharField()
    actual = serializers.CharField()
    note = serializers.CharField()
    actor = serializers.CharField(source="actor_label", help_text="Who it happened to (user or API client).")
    user = serializers.CharField(source="user.username", allow_null=True)
    supervisor = serializers.CharField(
        source="supervisor.username", allow_null=True, help_text="Who approved a weight override."
    )
    created_at = serializers.DateTimeField()
