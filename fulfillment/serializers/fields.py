"""What the fulfillment serializers share: the limits on units and grams, the status fields
(each one named component of the schema) and the code field."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.enums import AccuracyKind, EntryState, PackageStatus, PackingStatus, PickListStatus, TaskStatus
from inventory.models import CODE_PATTERN

MAX_UNITS = 1_000_000
MAX_GRAMS = 1_000_000
CODE_ERRORS: dict[str, Any] = {
    "invalid": "Use letters, digits, dot, dash or underscore, starting with a letter or digit."
}


# --- status fields ---------------------------------------------------------------------------
# Each status set is one named component of the schema. Several outputs share a field name
# ("status") with different sets; naming each set here keeps their names stable for client
# generators without an entry in the project-wide ENUM_NAME_OVERRIDES.


def _enum_schema(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices.choices),
    }


@extend_schema_field(_enum_schema(PickListStatus), component_name="PickListStatusEnum")
class PickListStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(TaskStatus), component_name="PickTaskStatusEnum")
class TaskStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(EntryState), component_name="PickListOrderStateEnum")
class EntryStateField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(PackingStatus), component_name="PackingStatusEnum")
class PackingStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(PackageStatus), component_name="PackageStatusEnum")
class PackageStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(AccuracyKind), component_name="AccuracyKindEnum")
class AccuracyKindField(serializers.CharField):
    pass


def code_field(help_text: str, **kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        CODE_PATTERN, max_length=32, help_text=help_text, error_messages=CODE_ERRORS, **kwargs
    )
