"""Forms of the picker and packer screens. They only check the shape of what was typed or
scanned; the services decide whether it can be done. Every error is a sentence a person
holding a scanner can act on."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from fulfillment.models import PackingStation

# The batch a picker takes when they do not choose: three orders fill a trolley's totes.
DEFAULT_BATCH = 3


def first_error(form: forms.Form) -> str:
    """The first error of an invalid form, as the sentence to show."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return "Check what you entered and try again."


def batch_sizes() -> list[int]:
    return list(range(1, settings.OMS_PICK_BATCH_SIZE + 1))


def default_batch_size() -> int:
    return min(DEFAULT_BATCH, settings.OMS_PICK_BATCH_SIZE)


class TakeBatchForm(forms.Form):
    max_orders = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Choose how many orders to take from the list."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["max_orders"].choices = [(n, str(n)) for n in batch_sizes()]  # type: ignore[attr-defined]

    def clean_max_orders(self) -> int:
        return self.cleaned_data["max_orders"] or default_batch_size()


def picker_choices() -> list[tuple[int, str]]:
    """Active users who may pick (the role, a direct grant, or an administrator)."""
    by_group = Q(groups__permissions__codename="pick", groups__permissions__content_type__app_label="fulfillment")
    by_user = Q(user_permissions__codename="pick", user_permissions__content_type__app_label="fulfillment")
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | by_group | by_user)
        .distinct()
        .order_by("username")
    )
    return [(u.pk, u.get_username()) for u in users]


class CreatePickListForm(forms.Form):
    """A manager's pick list from typed order numbers, for a chosen picker."""

    orders = forms.CharField(
        max_length=2000,
        error_messages={"required": "Type the order numbers to put on the pick list."},
    )
    picker = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Choose the picker who gets the pick list.",
            "invalid_choice": "Choose the picker from the list; that user cannot pick.",
        },
    )

    def __init__(self, *args: Any, pickers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["picker"].choices = pickers  # type: ignore[attr-defined]

    def clean_orders(self) -> list[str]:
        numbers = [n for n in re.split(r"[\s,;]+", self.cleaned_data["orders"]) if n]
        if not numbers:
            raise forms.ValidationError("Type the order numbers to put on the pick list.")
        return list(dict.fromkeys(numbers))


class ScanForm(forms.Form):
    """A scanned (or typed) SKU or barcode, with an optional count of units."""

    code = forms.CharField(
        max_length=100,
        strip=True,
        error_messages={"required": "Scan the item's barcode or type its SKU."},
    )
    quantity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,
        error_messages={
            "invalid": "Type the number of units as a whole number, or leave it empty for one.",
            "min_value": "Confirm at least one unit, or leave the number empty for one.",
            "max_value": "That is more units than any pick or box holds; check the number.",
        },
    )
    task = forms.IntegerField(required=False, min_value=1)

    def clean_quantity(self) -> int:
        return self.cleaned_data["quantity"] or 1


class ShortPickForm(forms.Form):
    task = forms.IntegerField(
        min_value=1, error_messages={"required": "Reload the page: the pick to report is missing."}
    )
    found = forms.IntegerField(
        min_value=0,
        error_messages={
            "required": "Type how many units you found in the bin (0 if it is empty).",
            "invalid": "Type how many units you found in the bin as a whole number (0 if it is empty).",
            "min_value": "Type how many units you found in the bin (0 if it is empty).",
        },
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255, strip=True, error_messages={"required": "Say why the pick list is cancelled."}
    )


class PackingStationForm(forms.Form):
    station = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Choose your packing station from the list."},
    )

    def __init__(self, *args: Any, stations: list[PackingStation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [("", "No station"), *((s.pk, s.code) for s in stations)]  # type: ignore[attr-defined]


class PackingOpenForm(forms.Form):
    code = forms.CharField(
        max_length=100, strip=True, error_messages={"required": "Scan the order number or the tote label."}
    )


class PackageOpenForm(forms.Form):
    package_type = forms.CharField(max_length=32, error_messages={"required": "Choose a box."})


class WeighForm(forms.Form):
    """A box's weight; with a supervisor's user name and password (or, for a packer who may
    approve weights, only a reason) it approves a weight outside the tolerance."""

    sequence = forms.IntegerField(
        min_value=1, error_messages={"required": "Reload the page: the package to weigh is missing."}
    )
    weight_grams = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        error_messages={
            "required": "Enter the weight in grams.",
            "invalid": "Enter the weight in whole grams.",
            "min_value": "Enter the weight in grams.",
            "max_value": "That weight is more than a ton; enter it in grams.",
        },
    )
    supervisor = forms.CharField(max_length=150, required=False, strip=True)
    password = forms.CharField(max_length=200, required=False, strip=False)
    reason = forms.CharField(max_length=255, required=False, strip=True)
    override = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("override") and not data.get("reason"):
            self.add_error("reason", "Say why the weight is approved.")
        return data
